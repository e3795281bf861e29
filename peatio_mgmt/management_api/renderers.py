"""The one renderer of the management API: compact UTF-8 JSON, trade figures as bare numbers (management-api.md §1.4).

DRF's JSONRenderer would write Decimal as float or string depending on settings and add its own escaping; the
contract's bodies are written here only, amounts already rendered to their exact strings.
"""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer

from peatio_mgmt.exact_json import dumps
from peatio_mgmt.management_api.fields import JsonNumber


def _json_number(value) -> str | None:
    # JsonNumber only: a bare Decimal is an amount someone forgot to render (a string, "100.0"), not a number.
    return value.text if isinstance(value, JsonNumber) else None


class RawJSON(str):
    """A body that is already the contract's JSON text (stored that way, e.g. the event stream's events): written
    as it is, not parsed and dumped again."""


def to_json(body) -> bytes:
    """The response body: compact UTF-8 JSON, JsonNumber values as bare numbers."""
    if isinstance(body, RawJSON):
        return body.encode()
    return dumps(body, _json_number).encode()


class JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return to_json(data)


class FixedNegotiation(BaseContentNegotiation):
    """Every answer is JSON whatever the Accept header says (the contract has one representation)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
