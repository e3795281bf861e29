from django.apps import AppConfig


class WithdrawsConfig(AppConfig):
    name = "withdraws"
    verbose_name = "Withdraws"
