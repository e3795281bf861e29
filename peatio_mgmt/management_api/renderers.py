"""The one renderer of the management API: compact UTF-8 JSON, trade figures as bare numbers (management-api.md §1.4).

DRF's JSONRenderer would write Decimal as float or string depending on settings and add its own escaping; the
contract's bodies are written here only, amounts already rendered to their exact strings.
"""

from __future__ import annotations

import json
import re
import secrets

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer

from peatio_mgmt.management_api.fields import JsonNumber

# JsonNumber values travel through json.dumps as marked strings ("<mark>12.32<mark>"), then lose quotes and marks.
_MARK = "\x00" + secrets.token_hex(8)
_ENCODED_MARK = json.dumps(_MARK)[1:-1]
_MARKED_NUMBER = re.compile('"' + re.escape(_ENCODED_MARK) + r"(-?[0-9]+\.[0-9]+)" + re.escape(_ENCODED_MARK) + '"')


def _encode_default(value):
    if isinstance(value, JsonNumber):
        return f"{_MARK}{value.text}{_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable here: render it first")


class RawJSON(str):
    """A body that is already the contract's JSON text (stored that way, e.g. the event stream's events): written
    as it is, not parsed and dumped again."""


def to_json(body) -> bytes:
    """The response body: compact UTF-8 JSON, JsonNumber values as bare numbers."""
    if isinstance(body, RawJSON):
        return body.encode()
    text = json.dumps(body, default=_encode_default, ensure_ascii=False, separators=(",", ":"))
    if _ENCODED_MARK in text:
        text = _MARKED_NUMBER.sub(r"\1", text)
    return text.encode()


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
