"""How values are written in responses (management-api.md §1.4) and how list routes page (§1.7)."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import QuerySet

from ledger.money import format_amount

__all__ = ["JsonNumber", "ListResult", "amount", "iso_time", "paginate", "to_json"]

MAX_OFFSET = 2**63 - 1  # PostgreSQL's OFFSET and LIMIT are bigint


def amount(value: Decimal) -> str:
    """A decimal amount as the contract writes it: "750.77", "100.0", "0.0"."""
    return format_amount(value)


def iso_time(value: datetime | None) -> str | None:
    """ISO 8601 in UTC, whole seconds (fraction truncated), suffix Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class JsonNumber:
    """A decimal written as a JSON number with exactly its digits (trade price/volume/funds): 12.32, 10.0."""

    __slots__ = ("text",)

    def __init__(self, value: Decimal):
        self.text = format_amount(value)

    def __eq__(self, other):
        return isinstance(other, JsonNumber) and other.text == self.text

    def __repr__(self):
        return self.text


@dataclass
class ListResult:
    """A page of a list route: the rendered items and the Total / Page / Per-Page headers."""

    items: list
    total: int
    page: int
    per_page: int


def paginate(queryset: QuerySet, *, page: int, limit: int) -> tuple[list, int]:
    """The rows of one page and the number of rows of all pages.

    A page that is neither empty nor full tells the total by itself, so COUNT runs only when it cannot.
    A page beyond what a bigint OFFSET can reach (page and limit are each within 64 bits, their product is not) is
    after the last row: empty, without asking the database.
    """
    offset = (page - 1) * limit
    rows = list(queryset[offset : offset + limit]) if offset + limit <= MAX_OFFSET else []
    if 0 < len(rows) < limit or (page == 1 and not rows):
        return rows, offset + len(rows)
    return rows, queryset.order_by().count()


# JsonNumber values travel through json.dumps as marked strings ("<mark>12.32<mark>"), then lose quotes and marks.
_MARK = "\x00" + secrets.token_hex(8)
_ENCODED_MARK = json.dumps(_MARK)[1:-1]
_MARKED_NUMBER = re.compile('"' + re.escape(_ENCODED_MARK) + r"(-?[0-9]+\.[0-9]+)" + re.escape(_ENCODED_MARK) + '"')


def _encode_default(value):
    if isinstance(value, JsonNumber):
        return f"{_MARK}{value.text}{_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable here: render it first")


def to_json(body) -> bytes:
    """The response body: compact UTF-8 JSON, JsonNumber values as bare numbers."""
    text = json.dumps(body, default=_encode_default, ensure_ascii=False, separators=(",", ":"))
    if _ENCODED_MARK in text:
        text = _MARKED_NUMBER.sub(r"\1", text)
    return text.encode()
