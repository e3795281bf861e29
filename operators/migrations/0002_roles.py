"""The role groups and their permissions (operators.roles), with the custom permissions they use."""

from django.db import migrations


def install_roles(apps, schema_editor):
    from operators.roles import install_roles

    install_roles(apps)


def remove_roles(apps, schema_editor):
    from operators.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("operators", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("ledger", "0002_chart_of_accounts_and_append_only_journal"),
        ("deposits", "0001_initial"),
        ("withdraws", "0001_initial"),
        ("trades", "0001_initial"),
    ]

    operations = [migrations.RunPython(install_roles, remove_roles)]
