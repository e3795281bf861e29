"""The gate: one Django view in front of the 20 routes (management-api.md §2.3).

The checks run in the contract's order and the first failure answers; then `dispatch` runs the route on the
verified `data`. A plain function view on purpose: no DRF request/response machinery, no database query, the
configuration and keys already loaded — the per-request work is parsing and signature checks.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from peatio_mgmt.management_api import config as api_config
from peatio_mgmt.management_api import replay
from peatio_mgmt.management_api.dispatch import INTERNAL_ERROR, dispatch
from peatio_mgmt.management_api.jws import Malformed, NotVerified, jti_of, parse_token, verify
from peatio_mgmt.management_api.render import to_json
from peatio_mgmt.management_api.routes import ROUTES, Route

logger = logging.getLogger("peatio_mgmt.management_api")

MAX_BODY = 1024 * 1024
VERBS = ("POST", "PUT", "DELETE")
FAILED_TO_VERIFY = "Failed to verify JWT."


class Refusal(Exception):
    """A check of the gate failed: the status and message the client gets; `reason` is for the log only."""

    def __init__(self, status: int, message: str, *, headers: dict | None = None, reason: str = ""):
        super().__init__(message)
        self.status, self.message, self.headers, self.reason = status, message, headers or {}, reason


def authenticate(route: Route, body: bytes) -> tuple[dict | None, frozenset[str]]:
    """Checks 6-10 on the body: the route's `data` and the verified kids, or a Refusal."""
    config = api_config.current()
    try:
        token = parse_token(body)
    except Malformed as error:
        raise Refusal(400, "Couldn't parse JWT.", reason=str(error)) from None
    now = int(time.time())
    try:
        claims, kids = verify(token, route.scope, config, now)
    except NotVerified as error:
        raise Refusal(401, FAILED_TO_VERIFY, reason=str(error)) from None
    missing = config.scopes[route.scope].mandatory - kids
    if missing:
        raise Refusal(401, "Not enough signatures for the action.",
                      reason=f"verified {sorted(kids)}, missing {sorted(missing)}")
    if config.jwt.verify_jti:
        try:
            first = replay.record_once(jti_of(claims), replay.ttl_of(claims, config.jwt.exp_leeway, now))
        except replay.StoreUnavailable as error:
            raise Refusal(503, "Service unavailable.", reason=f"replay store: {error}") from None
        if not first:
            raise Refusal(401, FAILED_TO_VERIFY, reason="jti replayed")
    data = claims.get("data")
    if data is not None and not isinstance(data, dict):
        raise Refusal(422, "data is invalid")
    return data, kids


def _response(status: int, body, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(to_json(body), status=status, content_type="application/json")
    if headers:
        for name, value in headers.items():
            response[name] = value
    return response


class _Served:
    """What the request log line needs to know about the request."""

    __slots__ = ("route", "kids", "reason")

    def __init__(self):
        self.route, self.kids, self.reason = "-", frozenset(), ""


def _serve(request, path: str, served: _Served) -> HttpResponse:
    route = ROUTES.get(path[:-1] if path.endswith("/") else path)
    if route is None:
        raise Refusal(404, "Not found.")
    served.route = route.path
    request.metrics_route = f"/api/v2/management/{route.path}"  # peatio_mgmt.metrics: one label per route
    if request.method not in VERBS:
        raise Refusal(405, "Only POST, PUT, and DELETE verbs are allowed.")
    if request.method != route.verb:
        raise Refusal(405, "Method not allowed.", headers={"Allow": route.verb})
    query = request.META.get("QUERY_STRING")
    if query and parse_qsl(query, keep_blank_values=True):
        raise Refusal(400, "Query parameters are not allowed.")
    media_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise Refusal(400, "Only JSON body is accepted.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Content-Length first: a huge body is refused without being read.
    if length > MAX_BODY or len(request.body) > MAX_BODY:
        raise Refusal(413, "Request body is too large.")
    data, served.kids = authenticate(route, request.body)
    outcome = dispatch(route, data)
    return _response(outcome.status, outcome.body, outcome.headers)


@csrf_exempt
def gate(request, path: str) -> HttpResponse:
    started = time.perf_counter()
    served = _Served()
    try:
        response = _serve(request, path, served)
    except Refusal as refusal:
        served.reason = refusal.reason
        response = _response(refusal.status, {"error": refusal.message}, refusal.headers)
    except Exception:
        logger.exception("management API: unexpected error on %s", served.route)
        response = _response(500, INTERNAL_ERROR)
    if request.method == "HEAD":
        response.content = b""
    response._has_been_logged = True  # the line below says it all: no second "django.request" line per 4xx
    logger.info(
        "management_api route=%s status=%d kids=%s duration_ms=%.2f%s",
        served.route, response.status_code, ",".join(sorted(served.kids)) or "-",
        (time.perf_counter() - started) * 1000, f" reason={served.reason!r}" if served.reason else "",
    )
    return response
