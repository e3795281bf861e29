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
from collections.abc import Sequence
from urllib.parse import parse_qsl

from django.db import InterfaceError, OperationalError, transaction
from django.urls import re_path
from django.utils.datastructures import MultiValueDict
from psycopg import errors as pg_errors
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Empty, Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSetMixin

from peatio_mgmt.db_router import replica_configured, replica_reads
from peatio_mgmt.management_api import read_your_writes
from peatio_mgmt.management_api.authentication import JWSAuthentication
from peatio_mgmt.management_api.exceptions import Refusal
from peatio_mgmt.management_api.pagination import PagePagination
from peatio_mgmt.management_api.parsers import JWSDataParser
from peatio_mgmt.management_api.permissions import FreshToken, MandatorySigners
from peatio_mgmt.management_api.renderers import FixedNegotiation, JSONRenderer
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.sync import feed_page

logger = logging.getLogger("peatio_mgmt.management_api")

PREFIX = "/api/v2/management/"
MAX_BODY = 1024 * 1024
VERBS = ("POST", "PUT", "DELETE")


class ManagementRequest(Request):
    """DRF's Request whose `data` is the one parser's answer on the verified claims.

    The body was read and parsed once, by the authentication (`jws.parse_token`); DRF's generic path to `data`
    (a stream over the body, parser negotiation, the form-data checks) would only feed a parser that ignores it.
    """

    def _load_data_and_files(self):
        if self._data is Empty:
            parser = self.negotiator.select_parser(self, self.parsers)
            try:
                data = parser.parse(None, parser.media_type, self.parser_context)
            except Exception:
                self._data = self._full_data = {}  # as DRF does: a failed parse is not repeated by a later read
                self._files = MultiValueDict()
                raise
            self._data = self._full_data = data
            self._files = MultiValueDict()


class ManagementAPIView(APIView):
    """What every answer under the prefix shares: one renderer, one exception handler, one log line.

    The policies (parsers, authenticators, permissions, negotiation, renderers) are instantiated once per class,
    not on every request: they are stateless (`__init_subclass__` builds them from the `*_classes` attributes).
    """

    authentication_classes: Sequence[type[BaseAuthentication]] = ()
    permission_classes: Sequence[type[BasePermission]] = ()
    parser_classes = (JWSDataParser,)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = FixedNegotiation
    throttle_classes: Sequence[type[BaseThrottle]] = ()
    versioning_class = None
    route: str = "-"  # the contract's route path, given by urls.py
    _parsers: tuple[BaseParser, ...]
    _authenticators: tuple[BaseAuthentication, ...]
    _permissions: tuple[BasePermission, ...]
    _renderers: tuple[BaseRenderer, ...]
    _throttles: tuple[BaseThrottle, ...]
    _negotiator: BaseContentNegotiation

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._build_policies()

    @classmethod
    def _build_policies(cls) -> None:
        cls._parsers = tuple(parser() for parser in cls.parser_classes)
        cls._authenticators = tuple(authentication() for authentication in cls.authentication_classes)
        cls._permissions = tuple(permission() for permission in cls.permission_classes)
        cls._renderers = tuple(renderer() for renderer in cls.renderer_classes)
        cls._throttles = tuple(throttle() for throttle in cls.throttle_classes)
        cls._negotiator = cls.content_negotiation_class()

    def get_parsers(self):
        return self._parsers

    def get_authenticators(self):
        return self._authenticators

    def get_permissions(self):
        return self._permissions

    def get_renderers(self):
        return self._renderers

    def get_throttles(self):
        return self._throttles

    def get_content_negotiator(self):
        return self._negotiator

    def initialize_request(self, request, *args, **kwargs) -> ManagementRequest:
        return ManagementRequest(request, parsers=self._parsers, authenticators=self._authenticators,
                                 negotiator=self._negotiator,
                                 parser_context={"view": self, "args": args, "kwargs": kwargs})

    @property
    def default_response_headers(self) -> dict:
        return {}

    def initial(self, request, *args, **kwargs):
        """APIView.initial with this API's fixed policies, in DRF's order: the negotiator's answer (no format
        suffix), the version (none configured), authentication, permissions, throttles (none configured)."""
        self.format_kwarg = None
        request.accepted_renderer, request.accepted_media_type = self._negotiator.select_renderer(
            request, self._renderers)
        if self.versioning_class is None:
            request.version = request.versioning_scheme = None
        else:
            request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.perform_authentication(request)
        self.check_permissions(request)
        if self._throttles:
            self.check_throttles(request)

    def perform_authentication(self, request):
        """`request.user`, as DRF does, without its test "authenticated yet?": `hasattr(request, "_user")` fails
        through Request.__getattr__ (two AttributeErrors raised and caught on every request)."""
        if "_user" not in request.__dict__:
            request._authenticate()

    def dispatch(self, request, *args, **kwargs):
        """APIView.dispatch, plus: a transaction aborted by the database runs once more; HEAD gets no body."""
        started = time.perf_counter()
        method = request.method
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = {}
        try:
            self.initial(request, *args, **kwargs)
            response = self.run_action(getattr(self, method.lower()), request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        response = self.finalize_response(request, response, *args, **kwargs)
        response.render()  # what Django's handler does next (a no-op there once rendered)
        if method == "HEAD":
            response.content = b""
        response._has_been_logged = True  # the line below says it all: no second "django.request" line per 4xx
        signers = request.__dict__.get("_user")
        reason = request.__dict__.get("refusal_reason")
        logger.info(
            "management_api route=%s status=%d kids=%s duration_ms=%.2f%s",
            self.route, response.status_code, ",".join(sorted(signers.kids)) if signers else "-",
            (time.perf_counter() - started) * 1000, f" reason={reason!r}" if reason else "",
        )
        self.release(request, response)
        return response

    def release(self, request, response) -> None:
        """Break the reference cycles of DRF's request cycle once the answer is rendered.

        The view, its Request (parser context: view, request) and its Response (renderer context: view, request,
        response) point at each other, and a viewset's action is bound on the view itself: left in place, the
        request's objects are not freed by reference counting but wait for the cyclic garbage collector (68
        objects of cyclic garbage per /timestamp request; with the cycles broken, 37). Nothing reads these contexts after rendering.
        """
        request.parser_context.clear()
        if getattr(response, "renderer_context", None):
            response.renderer_context.clear()
        for verb in getattr(self, "action_map", ()):
            self.__dict__.pop(verb, None)  # the action bound by ViewSetMixin.as_view: view -> method -> view

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


ManagementAPIView._build_policies()


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

    def initialize_request(self, request, *args, **kwargs) -> ManagementRequest:
        """ViewSetMixin.initialize_request: the action of the request's method."""
        method = request.method.lower()
        # None for a verb the route lacks, as in DRF's own initialize_request (its stubs say str)
        self.action = "metadata" if method == "options" else self.action_map.get(method)  # type: ignore[assignment]
        return ManagementAPIView.initialize_request(self, request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        http = request._request
        http.metrics_route = PREFIX + self.route  # peatio_mgmt.metrics: one label per route
        method = http.method
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

    def run_action(self, handler, request, *args, **kwargs) -> Response:
        """With a replica (DATABASE_REPLICA_URL): a `read_*` action reads it unless its partner wrote recently, a
        `write_*` action pins its partner to the primary (management_api.read_your_writes). A read the replica
        cannot serve (down, or a query cancelled by a recovery conflict) is read again on the primary: the
        action wrote nothing, so running it twice is safe."""
        if not replica_configured():
            return super().run_action(handler, request, *args, **kwargs)
        kids = request.user.kids
        if self.scope.startswith("read_") and not read_your_writes.pinned(kids):
            try:
                with replica_reads():
                    return super().run_action(handler, request, *args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                logger.warning("replica read failed (%s): reading the primary", error)
                return super().run_action(handler, request, *args, **kwargs)
        if not self.scope.startswith("write_"):
            return super().run_action(handler, request, *args, **kwargs)
        try:
            return super().run_action(handler, request, *args, **kwargs)
        finally:  # before the answer leaves: the partner cannot ask for what it wrote before the pin is there
            read_your_writes.pin(kids)

    def validated(self, params_class) -> dict:
        """The action's parameters, checked by its input serializer (management_api.serializers.Params)."""
        self.params = params_class.validate_data(self.request.data)
        return self.params

    def paginated(self, queryset, render, count=None) -> Response:
        """The page of `queryset` given by the validated `page`/`limit` (self.params); `render(rows)` -> items;
        `count()`, when given, is Total (the exact number of rows of `queryset`, found a cheaper way)."""
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(queryset, self.request, view=self, count=count)
        return paginator.get_paginated_response(render(rows))

    def listed(self, queryset, render, count=None) -> Response:
        """`paginated`, or — with a `from_id` parameter — the feed page of management-api-extensions.md §5.3:
        rows above `from_id` and at most the settled id, id ascending, on the primary; `render(rows)` -> items.
        `count` is `paginated`'s (not used by the feed, whose set is cut at the settled id)."""
        from_id = self.params.get("from_id")
        if from_id is None:
            return self.paginated(queryset, render, count)
        with replica_reads(False):  # the rows up to the settled id exist on the primary only, yet
            feed = feed_page(queryset, from_id=from_id, page=self.params["page"], limit=self.params["limit"])
            items = render(feed.rows)
        return self.page_answer(items, total=feed.total)

    def page_answer(self, items: list, *, total: int) -> Response:
        """A list answer (201) with the `Total`/`Page`/`Per-Page` of the validated `page`/`limit`."""
        paginator = self.pagination_class()
        paginator.page, paginator.limit, paginator.total = self.params["page"], self.params["limit"], total
        return paginator.get_paginated_response(items)


def route(path: str, viewset: type[ManagementViewSet], verb: str, action: str):
    """The URL pattern of one contract route (`path` under the prefix, one trailing slash tolerated).

    The pattern carries the whole path, prefix included: the routes are listed flat in the root URLconf (no
    nested `include` resolvers to walk and no ResolverMatch to merge per level on every request).
    """
    return re_path(rf"^{re.escape(PREFIX[1:] + path)}/?\Z", viewset.as_view({verb: action}, route=path), name=path)


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
