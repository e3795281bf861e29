from django.apps import AppConfig


class DepositsConfig(AppConfig):
    name = "deposits"
    verbose_name = "Deposits"

    def ready(self):
        from deposits.models import Deposit
        from peatio_mgmt.metrics import SCRAPE_TIME, StateCounts

        SCRAPE_TIME.register(StateCounts(Deposit, "peatio_deposits"))
