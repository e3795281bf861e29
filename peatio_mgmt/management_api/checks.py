"""`manage.py check` refuses a management API configuration with a mistake of management-api.md §2.7."""

from django.core import checks

from peatio_mgmt.management_api import config


@checks.register()
def management_api_config(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    try:
        config.reload()
    except config.ConfigError as error:
        return [checks.Error(str(error), id="management_api.E001")]
    return []
