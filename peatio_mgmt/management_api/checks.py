"""`manage.py check` refuses a management API configuration with a mistake of management-api.md §2.7."""

from django.conf import settings
from django.core import checks

from peatio_mgmt.management_api import config


@checks.register()
def management_api_config(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    # Validate only: a check also runs inside processes that already have a configuration in force
    # (a Celery worker validates the models at start).
    try:
        config.load(settings.MANAGEMENT_API_CONFIG)
    except config.ConfigError as error:
        return [checks.Error(str(error), id="management_api.E001")]
    return []
