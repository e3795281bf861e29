from django.apps import AppConfig


class WithdrawsConfig(AppConfig):
    name = "withdraws"
    verbose_name = "Withdraws"

    def ready(self):
        from peatio_mgmt.metrics import SCRAPE_TIME, StateCounts
        from withdraws.models import Withdraw

        SCRAPE_TIME.register(StateCounts(Withdraw, "peatio_withdraws"))
