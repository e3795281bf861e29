"""Kept for its place in the history. The role groups are not installed here but by post_migrate (operators.apps)
from operators.roles, the one permission matrix, after every `migrate` and `flush`: a data migration can only
freeze a copy of the matrix, which the next change of the matrix would contradict."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("operators", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("ledger", "0002_chart_of_accounts_and_append_only_journal"),
        ("deposits", "0001_initial"),
        ("withdraws", "0001_initial"),
        ("trades", "0001_initial"),
    ]

    operations = []
