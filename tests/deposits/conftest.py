import importlib

from django.apps import apps
from django.db.models.signals import post_migrate

install_chart = importlib.import_module("ledger.migrations.0002_chart_of_accounts_and_append_only_journal").install_chart


def _reinstall_chart(sender, **kwargs):
    """A transactional test ends with a flush that also empties the chart of accounts the migrations installed;
    the flush then sends post_migrate, and the chart is put back for the tests that follow."""
    if sender.label == "ledger":
        install_chart(apps, None)


post_migrate.connect(_reinstall_chart, dispatch_uid="tests-reinstall-chart-after-flush")
