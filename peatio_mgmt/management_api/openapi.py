"""The OpenAPI document of the 20 routes (GET /api/v2/management/swagger), generated with drf-spectacular.

The routes are not DRF views, so the generator runs over no URL pattern and a postprocessing hook adds one path
per entry of ROUTES, described from the handler's `@endpoint` declarations: the request body is the JWS general
JSON object, the payload's `data` is `handler.params.describe()`, the success answer `handler.response_schema`.
A route whose handler cannot be imported (yet) is still listed, without those two descriptions.
"""

from __future__ import annotations

import json
import logging

from django.http import HttpResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings

from peatio_mgmt.management_api.gate import gate
from peatio_mgmt.management_api.routes import ROUTES, Route

logger = logging.getLogger("peatio_mgmt.management_api")

PREFIX = "/api/v2/management/"

ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
ERRORS = {"type": "object", "properties": {"errors": {"type": "array", "items": {"type": "string"}}},
          "required": ["errors"]}
SIGNATURE = {
    "type": "object",
    "properties": {
        "protected": {"type": "string", "description": 'base64url of the protected header, e.g. {"alg":"RS256"}'},
        "header": {"type": "object", "properties": {"kid": {"type": "string"}}, "required": ["kid"]},
        "signature": {"type": "string", "description": "base64url of the signature of <protected>.<payload>"},
    },
    "required": ["protected", "header", "signature"],
}
ERROR_RESPONSES = {
    "400": ("Query string, content type, or a body that is not a JWS (Couldn't parse JWT.).", ERROR),
    "401": ("Failed to verify JWT. / Not enough signatures for the action.", ERROR),
    "404": ("Couldn't find record.", ERROR),
    "405": ("Wrong verb.", ERROR),
    "413": ("Request body is too large.", ERROR),
    "422": ("Parameter validation ({\"error\"}) or a business rule ({\"errors\"}).", {"oneOf": [ERROR, ERRORS]}),
    "500": ("Internal server error.", ERROR),
    "503": ("Service unavailable. (replay store unreachable)", ERROR),
}
PAGE_HEADERS = {
    name: {"description": description, "schema": {"type": "integer"}}
    for name, description in [("Total", "rows matching the filters, all pages"), ("Page", "the page served"),
                              ("Per-Page", "the limit applied")]
}


def request_body(data_schema: dict | None) -> dict:
    claims = {
        "type": "object",
        "properties": {
            "iat": {"type": "integer"}, "exp": {"type": "integer"}, "nbf": {"type": "integer"},
            "jti": {"type": "string"}, "iss": {"type": "string"}, "aud": {"type": "string"}, "sub": {"type": "string"},
            "data": data_schema or {"type": "object", "description": "the route's parameters"},
        },
    }
    return {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "description": "JWS General JSON Serialization (RFC 7515 §7.2.1) with one signature per signer; the "
                           "payload is base64url of the JSON claims described in x-claims.",
            "properties": {"payload": {"type": "string", "x-claims": claims},
                           "signatures": {"type": "array", "maxItems": 16, "items": SIGNATURE}},
            "required": ["payload", "signatures"],
        }}},
    }


def operation(route: Route) -> dict:
    try:
        handler = route.handler
    except Exception:  # other engineers' handlers may not exist yet: the route is listed all the same
        logger.warning("OpenAPI: handler %s of /%s not importable, route listed without description",
                       route.handler_path, route.path)
        handler = None
    params = getattr(handler, "params", None)
    response_schema = getattr(handler, "response_schema", None)
    success = {"description": "Success"}
    if response_schema is not None:
        success["content"] = {"application/json": {"schema": response_schema}}
        if response_schema.get("type") == "array":
            success["headers"] = PAGE_HEADERS
    responses = {str(route.success_status): success}
    for status, (description, schema) in ERROR_RESPONSES.items():
        responses[status] = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {
        "operationId": route.handler_path.rsplit(".", 1)[-1],
        "summary": getattr(handler, "summary", "") or route.path,
        "description": f"Scope `{route.scope}`.",
        "tags": [route.path.split("/", 1)[0]],
        "requestBody": request_body(params.describe() if params is not None else None),
        "responses": responses,
    }


def add_routes(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: the paths of ROUTES."""
    for route in ROUTES.values():
        result["paths"][PREFIX + route.path] = {route.verb.lower(): operation(route)}
    return result


def document() -> dict:
    with patched_settings({"POSTPROCESSING_HOOKS": ["peatio_mgmt.management_api.openapi.add_routes"]}):
        return SchemaGenerator(patterns=[]).get_schema(request=None, public=True)


def swagger(request, path: str = "swagger") -> HttpResponse:
    """The only GET under the prefix, not gated; any other verb is the gate's (404: not a route)."""
    if request.method != "GET":
        return gate(request, path)
    return HttpResponse(json.dumps(document()), content_type="application/json")
