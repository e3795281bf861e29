"""The base views of the management API: DRF's request cycle with the gate's checks in the contract's order.

management-api.md §2.3: the route (404), the verb (405, `Allow` for a route's wrong verb), no query string, a
JSON media type, at most 1 MiB of body (413) — these transport checks come first, in `initial`, before DRF's
authentication (`authentication.JWSAuthentication`) and permissions (`permissions.py`); then the `data` claim
(`parsers.JWSDataParser`). DRF's defaults that differ from the contract are switched off: no content negotiation
(one JSON renderer), no `Allow`/`Vary` on every answer, no throttles, no 403 instead of 401. Every error body
comes from `exceptions.exception_handler`. One log line per request.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qsl

from django.db import OperationalError, transaction
from django.urls import re_path
from psycopg import errors as pg_errors
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from peatio_mgmt.management_api.authentication import JWSAuthentication
from peatio_mgmt.management_api.exceptions import Refusal
from peatio_mgmt.management_api.pagination import PagePagination
from peatio_mgmt.management_api.parsers import JWSDataParser
from peatio_mgmt.management_api.permissions import FreshToken, MandatorySigners
from peatio_mgmt.management_api.renderers import FixedNegotiation, JSONRenderer
from peatio_mgmt.sync import feed_page

logger = logging.getLogger("peatio_mgmt.management_api")

PREFIX = "/api/v2/management/"
MAX_BODY = 1024 * 1024
VERBS = ("POST", "PUT", "DELETE")


class ManagementAPIView(APIView):
    """What every answer under the prefix shares: one renderer, one exception handler, one log line."""

    authentication_classes = ()
    permission_classes = ()
    parser_classes = (JWSDataParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = FixedNegotiation
    throttle_classes = ()
    versioning_class = None
    route: str = "-"  # the contract's route path, given by urls.py

    @property
    def default_response_headers(self) -> dict:
        return {}

    def dispatch(self, request, *args, **kwargs):
        """APIView.dispatch, plus: a transaction aborted by the database runs once more; HEAD gets no body."""
        started = time.perf_counter()
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = {}
        try:
            self.initial(request, *args, **kwargs)
            response = self.run_action(getattr(self, request.method.lower()), request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        response = self.finalize_response(request, response, *args, **kwargs)
        if request.method == "HEAD":
            response.render()
            response.content = b""
        response._has_been_logged = True  # the line below says it all: no second "django.request" line per 4xx
        signers = request.__dict__.get("_user")
        reason = request.__dict__.get("refusal_reason")
        logger.info(
            "management_api route=%s status=%d kids=%s duration_ms=%.2f%s",
            self.route, response.status_code, ",".join(sorted(signers.kids)) if signers else "-",
            (time.perf_counter() - started) * 1000, f" reason={reason!r}" if reason else "",
        )
        self.response = response
        return response

    def run_action(self, handler, request, *args, **kwargs) -> Response:
        """Call the action; call it once more when PostgreSQL aborted its transaction to break a deadlock.

        An action's writes are one transaction, wholly rolled back by the abort, so the second run starts clean.
        (Two requests creating the same member's account rows at the same moment can deadlock; it is rare, and
        the loser deserves an answer, not a 500.)
        """
        try:
            return handler(request, *args, **kwargs)
        except OperationalError as error:
            if not isinstance(error.__cause__, (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)):
                raise
            if transaction.get_connection().in_atomic_block:
                raise  # not the action's own transaction: the caller must roll back
            logger.warning("transaction aborted by the database (%s); running the request again",
                           type(error.__cause__).__name__)
            return handler(request, *args, **kwargs)


class UnknownRoute(ManagementAPIView):
    """Any path under the prefix that is not a route, whatever the verb."""

    def initial(self, request, *args, **kwargs):
        raise Refusal(404, "Not found.")


class ManagementViewSet(ViewSetMixin, ManagementAPIView):
    """Base of the resources' viewsets. `scopes` maps each action to its scope (management-api.md §2.7)."""

    authentication_classes = (JWSAuthentication,)
    permission_classes = (MandatorySigners, FreshToken)
    pagination_class = PagePagination
    scopes: dict[str, str] = {}

    @property
    def scope(self) -> str:
        return self.scopes[self.action]

    def initial(self, request, *args, **kwargs):
        http = request._request
        http.metrics_route = PREFIX + self.route  # peatio_mgmt.metrics: one label per route
        method = request.method
        if method not in VERBS:
            raise Refusal(405, "Only POST, PUT, and DELETE verbs are allowed.")
        if self.action is None:
            raise Refusal(405, "Method not allowed.", headers={"Allow": ", ".join(self.action_map).upper()})
        query = http.META.get("QUERY_STRING")
        if query and parse_qsl(query, keep_blank_values=True):
            raise Refusal(400, "Query parameters are not allowed.")
        media_type = http.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            raise Refusal(400, "Only JSON body is accepted.")
        try:
            length = int(http.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # Content-Length first: a huge body is refused without being read.
        if length > MAX_BODY or len(http.body) > MAX_BODY:
            raise Refusal(413, "Request body is too large.")
        super().initial(request, *args, **kwargs)
        request.data  # noqa: B018 -- the `data` check (422) comes before any parameter, whatever the action reads

    def validated(self, params_class) -> dict:
        """The action's parameters, checked by its input serializer (management_api.serializers.Params)."""
        self.params = params_class.validate_data(self.request.data)
        return self.params

    def paginated(self, queryset, render) -> Response:
        """The page of `queryset` given by the validated `page`/`limit` (self.params); `render(rows)` -> items."""
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(render(rows))

    def listed(self, queryset, render) -> Response:
        """`paginated`, or — with a `from_id` parameter — the feed page of management-api-extensions.md §5.3:
        rows above `from_id` and at most the settled id, id ascending, on the primary; `render(rows)` -> items."""
        from_id = self.params.get("from_id")
        if from_id is None:
            return self.paginated(queryset, render)
        feed = feed_page(queryset, from_id=from_id, page=self.params["page"], limit=self.params["limit"])
        return self.page_answer(render(feed.rows), total=feed.total)

    def page_answer(self, items: list, *, total: int) -> Response:
        """A list answer (201) with the `Total`/`Page`/`Per-Page` of the validated `page`/`limit`."""
        paginator = self.pagination_class()
        paginator.page, paginator.limit, paginator.total = self.params["page"], self.params["limit"], total
        return paginator.get_paginated_response(items)


def route(path: str, viewset: type[ManagementViewSet], verb: str, action: str):
    """The URL pattern of one contract route (`path` under the prefix, one trailing slash tolerated)."""
    return re_path(rf"^{re.escape(path)}/?\Z", viewset.as_view({verb: action}, route=path), name=path)


def served_routes() -> list[tuple[str, str, str]]:
    """(path, verb, scope) of every route under the prefix, read from the URL patterns."""
    from django.urls import URLResolver, get_resolver

    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
                continue
            viewset = getattr(pattern.callback, "cls", None)
            if isinstance(viewset, type) and issubclass(viewset, ManagementViewSet):
                (verb, action), = pattern.callback.actions.items()
                found.append((pattern.callback.initkwargs["route"], verb.upper(), viewset.scopes[action]))

    walk(get_resolver().url_patterns)
    return found
