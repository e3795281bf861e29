"""members.group (management-api-extensions.md §8.1): not null, default vip-0 (existing rows get it), checked."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_sync_guard")]

    operations = [
        migrations.AddField(
            model_name="member",
            name="group",
            field=models.CharField(db_default="vip-0", default="vip-0", max_length=32),
        ),
        migrations.AddConstraint(
            model_name="member",
            constraint=models.CheckConstraint(condition=models.Q(("group__regex", "^[a-z0-9_-]{1,32}$")),
                                              name="members_group_format"),
        ),
    ]
