"""WSGI application of the bare view: the project's settings with bench.bare as the URLconf."""

import os

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bare_settings"

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
