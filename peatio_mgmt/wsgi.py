import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
application = get_wsgi_application()

# The management API configuration is read once, here: a refused file (ConfigError) stops the process at start.
from peatio_mgmt.management_api import config  # noqa: E402

config.reload()
