"""How tests call the management API: `api.post(path, data)` / `api.put(path, data)` -> ApiResponse.

Provisional: calls the route's dispatch in-process (parameters, handler, error mapping, JSON rendering).
The API-gate work replaces the transport with real signed HTTP requests; the interface stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

from peatio_mgmt.management_api.dispatch import dispatch
from peatio_mgmt.management_api.render import to_json
from peatio_mgmt.management_api.routes import ROUTES


@dataclass
class ApiResponse:
    status_code: int
    content: bytes
    headers: dict

    def json(self):
        return json.loads(self.content, parse_float=Decimal)


class ApiClient:
    def call(self, verb: str, path: str, data: dict | None = None) -> ApiResponse:
        route = ROUTES[path.strip("/")]
        assert route.verb == verb, f"{path} is a {route.verb} route"
        outcome = dispatch(route, json.loads(json.dumps(data), parse_float=Decimal) if data is not None else None)
        return ApiResponse(outcome.status, to_json(outcome.body), outcome.headers)

    def post(self, path: str, data: dict | None = None) -> ApiResponse:
        return self.call("POST", path, data)

    def put(self, path: str, data: dict | None = None) -> ApiResponse:
        return self.call("PUT", path, data)
