"""The default chart of accounts (domain.md §3) and the trigger that makes the journal append-only."""

from django.db import migrations

from ledger.chart import install_default_chart
from peatio_mgmt.append_only import append_only


def install_chart(apps, schema_editor):
    install_default_chart(apps.get_model("ledger", "ChartAccount"))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(install_chart, migrations.RunPython.noop),
        append_only("operations", "operations are append-only: % refused (a correction is a new posting)"),
    ]
