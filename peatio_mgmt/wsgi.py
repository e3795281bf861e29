import io
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
django_application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from peatio_mgmt.management_api import config  # noqa: E402
from peatio_mgmt.management_api.views import MAX_BODY  # noqa: E402

# The management API configuration is read once, here: a refused file (ConfigError) stops the process at start.
config.reload()


def application(environ, start_response):
    """Django's application, with a chunked request body (`Transfer-Encoding: chunked`, no Content-Length) made
    readable.

    Django reads CONTENT_LENGTH bytes of `wsgi.input`, none without it: the API's gate saw an empty body ("Couldn't
    parse JWT.") where a partner's client had streamed a signed one. gunicorn de-chunks `wsgi.input` and marks it
    complete (`wsgi.input_terminated`), so it is read here, up to one byte past the larger of the API's limit and
    Django's: above them the gate answers 413 (Django 400 for a form), and nothing more is read.
    """
    if ("CONTENT_LENGTH" not in environ and environ.get("wsgi.input_terminated")
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()):
        body = environ["wsgi.input"].read(max(MAX_BODY, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) + 1)
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    return django_application(environ, start_response)
