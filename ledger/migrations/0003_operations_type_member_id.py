"""Index (type, member_id, id) for /liabilities filtered by uid without currency (newest first, LIMIT n).

Built CONCURRENTLY: the journal is the largest table and must stay writable while the index is built.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0002_chart_of_accounts_and_append_only_journal")]

    operations = [
        AddIndexConcurrently(
            model_name="operation",
            index=models.Index(fields=["type", "member", "id"], name="operations_type_member_id"),
        ),
    ]
