"""A NUL character in a console request is refused with 400, before any view reads it.

PostgreSQL cannot store NUL in text, and psycopg refuses to send it: a NUL in a list filter, a primary key in the
URL, a reason or a txid typed into a confirmation reached the database as a 500. The management API checks its
parameters itself (a NUL is `<name> is invalid`, an unknown path a JSON 404), so its prefix is left to it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBadRequest

from peatio_mgmt.management_api.views import PREFIX

REFUSED = "Bad request: it contains a NUL character, which no field can hold."
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if request.method == "POST" and request.content_type in FORMS:
        return any("\x00" in value for values in request.POST.lists() for value in [values[0], *values[1]])
    return False


class RefuseNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if not request.path.startswith(PREFIX) and _holds_nul(request):
            return HttpResponseBadRequest(REFUSED, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
