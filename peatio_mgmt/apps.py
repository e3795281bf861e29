from django.apps import AppConfig


class PeatioMgmtConfig(AppConfig):
    name = "peatio_mgmt"

    def ready(self):
        from peatio_mgmt.management_api import checks  # noqa: F401  registers the configuration check
