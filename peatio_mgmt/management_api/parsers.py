"""The parser of the management API: `request.data` is the verified `data` claim of the JWS.

The body is parsed once, by the authentication (`jws.parse_token`, the one place that reads it); this parser hands
its verified claims' `data` to the view: absent or null means no parameters, anything but an object is refused.
"""

from __future__ import annotations

from rest_framework.parsers import BaseParser

from peatio_mgmt.management_api.exceptions import Refusal


class JWSDataParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        claims = parser_context["request"].auth
        data = claims.get("data")
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise Refusal(422, "data is invalid")
        return data
