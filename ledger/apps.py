from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def _install_default_chart(sender, apps=global_apps, **kwargs):
    # Also after a flush (tests that commit truncate every table): automatic postings need the default chart.
    from ledger.chart import install_default_chart

    try:
        model = apps.get_model("ledger", "ChartAccount")
    except LookupError:  # ledger not migrated yet (a partial migrate)
        return
    install_default_chart(model)


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        post_migrate.connect(_install_default_chart, sender=self, dispatch_uid="ledger.install_default_chart")
        from ledger.metrics import BooksCheck
        from peatio_mgmt.metrics import SCRAPE_TIME

        SCRAPE_TIME.register(BooksCheck())
