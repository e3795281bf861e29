"""Partial index (currency_id, id) of the non-zero accounts for /accounts/balances (§8.2).

Built CONCURRENTLY: every money movement updates accounts, which must stay writable while the index is built.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0006_member_group")]

    operations = [
        AddIndexConcurrently(
            model_name="account",
            index=models.Index(condition=models.Q(("balance__gt", 0), ("locked__gt", 0), _connector="OR"),
                               fields=["currency", "id"], name="accounts_nonzero_by_currency"),
        ),
    ]
