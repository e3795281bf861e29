"""Serializer fields of the management API: parameters in (management-api.md §1.5), exact values out (§1.4).

Parameters: every field's `parse` checks presence, then type, then rule, and stops at the parameter's first
failure with one message `<name> <tail>`; `serializers.Params` runs them in declaration order. JSON null reads as
absent. A field raises `Invalid(tail)`, not DRF's ValidationError: the contract's messages are name + tail, and
the nested names (`operations[0][account_src][code]`) are built by the parse, not by DRF's error dicts.

The fields that resolve a code to a ledger row (CurrencyCode, ChartCode) are the ledger's: ledger.api.fields.

Output: amounts are strings with exactly their digits ("100.0", `ledger.money.format_amount`; DRF's DecimalField
cannot write that), times ISO 8601 UTC whole seconds, trade figures bare JSON numbers (`JsonNumber`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers
from rest_framework.fields import empty

from peatio_mgmt.decimals import fits_numeric, format_amount
from peatio_mgmt.exact_json import plain

INT64 = (-(2**63), 2**63 - 1)
# Leading zeros aside, at most 19 digits: anything longer is outside int64, and int() of more than 4,300 digits
# raises ValueError.
INTEGER_TEXT = re.compile(r"([+-]?)0*([0-9]{1,19})\Z")
DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")
# NUL (PostgreSQL refuses it in text) and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
NOT_VALID = "does not have a valid value"


class Invalid(Exception):
    """A value failed its type or rule; carries the message tail after the parameter's name."""

    def __init__(self, tail: str = "is invalid"):
        self.tail = tail


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

    @classmethod
    def plain(cls, value: Decimal | int) -> JsonNumber:
        """A partner's own number, its digits as stored (plain notation, as jsonb prints it): 100, 1.50."""
        number = cls.__new__(cls)
        number.text = plain(value) if isinstance(value, Decimal) else str(value)
        return number

    def __eq__(self, other):
        return isinstance(other, JsonNumber) and other.text == self.text

    def __repr__(self):
        return self.text


# --- parameters -------------------------------------------------------------------------------------------------


class Param(serializers.Field):
    """One parameter. `required_if(values)`: required depending on the parameters parsed before it."""

    openapi_type: dict = {"type": "string"}

    def __init__(self, *, required: bool = False, required_if: Callable[[dict], bool] | None = None, **kwargs):
        super().__init__(required=required, **kwargs)
        self.required_if = required_if

    def parse(self, raw: Any, name: str, values: dict, errors: list[str]) -> Any:
        """Presence, then `read`; a failure appends this parameter's one message to `errors` (value None)."""
        if raw is None or raw is empty:
            if self.required or (self.required_if is not None and self.required_if(values)):
                errors.append(f"{name} is missing")
            return None if self.default is empty else self.default
        try:
            return self.read(raw, name, errors)
        except Invalid as invalid:
            errors.append(f"{name} {invalid.tail}")
            return None

    def read(self, raw: Any, name: str, errors: list[str]) -> Any:
        return self.check(self.coerce(raw))

    def coerce(self, value: Any) -> Any:
        """Type check: the typed value, or Invalid()."""
        raise NotImplementedError

    def check(self, value: Any) -> Any:
        """Rule check on the typed value: the (possibly resolved) value, or Invalid(tail)."""
        return value

    def describe(self) -> dict:
        """The OpenAPI schema of the parameter (read by the drf-spectacular extension in `schema.py`)."""
        return dict(self.openapi_type)


class String(Param):
    """A string; a JSON number is read as its decimal text. `choices` restricts the values."""

    def __init__(self, *, choices: Iterable[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices) if choices is not None else None

    def coerce(self, value):
        if isinstance(value, str):
            if UNSTORABLE.search(value):
                raise Invalid()
            return value
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise Invalid()
        return str(value)

    def check(self, value):
        if self.choices is not None and value not in self.choices:
            raise Invalid(NOT_VALID)
        return value

    def describe(self):
        schema = super().describe()
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        return schema


class Integer(Param):
    """A JSON integer or a string of an optional sign and digits, fitting a signed 64-bit integer."""

    openapi_type = {"type": "integer", "format": "int64"}

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, range_message: str | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.minimum, self.maximum, self.range_message = minimum, maximum, range_message

    def coerce(self, value):
        if isinstance(value, bool):
            raise Invalid()
        if isinstance(value, str):
            match = INTEGER_TEXT.match(value)
            if match is None:
                raise Invalid()
            value = int(match[1] + match[2])
        if not isinstance(value, int) or not INT64[0] <= value <= INT64[1]:
            raise Invalid()
        return value

    def check(self, value):
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise Invalid(self.range_message or NOT_VALID)
        return value

    def describe(self):
        schema = super().describe()
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


class Page(Integer):
    def __init__(self):
        super().__init__(default=1, minimum=1, range_message="must be greater than 0",
                         help_text="The page number (defaults to 1).")


class Limit(Integer):
    def __init__(self, maximum: int = 1000, default: int = 100):
        super().__init__(default=default, minimum=1, maximum=maximum, range_message=f"must be in range: 1..{maximum}.",
                         help_text=f"The number of objects per page (defaults to {default}, maximum is {maximum}).")


class FromId(Integer):
    """`from_id` of the seven lists (management-api-extensions.md §5.3): present, the list is the feed above it."""

    def __init__(self):
        super().__init__(minimum=0, help_text="Rows with an id above this one, id ascending, up to the settled id.")


class JsonObject(Param):
    """Any JSON object, kept with exactly its numbers (a JSONField with peatio_mgmt.exact_json's encoder and
    decoder stores them in jsonb, whose numeric holds every digit): 0.10 stays 0.10, 1e2 is 100.

    Refused: a number PostgreSQL's numeric cannot hold (more than 131,072 digits before the point or 16,383
    after), text PostgreSQL cannot store. Written back with `json_numbers`.
    """

    openapi_type = {"type": "object"}

    def coerce(self, value):
        if not isinstance(value, dict):
            raise Invalid()
        return _exact_json(value)


NUMERIC_INTEGER_DIGITS, NUMERIC_FRACTION_DIGITS = 131072, 16383


def _exact_json(value):
    if isinstance(value, dict):
        return {_exact_json(key): _exact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact_json(item) for item in value]
    if isinstance(value, Decimal):
        if (not value.is_finite() or value.adjusted() >= NUMERIC_INTEGER_DIGITS
                or value.as_tuple().exponent < -NUMERIC_FRACTION_DIGITS):
            raise Invalid()
        # As jsonb will give it back: plain notation, no negative zero.
        return Decimal(plain(value.copy_abs() if value.is_zero() else value))
    if isinstance(value, str) and UNSTORABLE.search(value):
        raise Invalid()
    return value


def json_numbers(value):
    """A stored JSON object (JsonObject's) for the renderer: its numbers as bare JSON numbers, every digit kept."""
    if isinstance(value, dict):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return JsonNumber.plain(value)
    return value


class ExactDecimal(Param):
    """A JSON number (parsed exactly) or a numeric string, finite and fitting NUMERIC(32,16)."""

    openapi_type = {"type": "string", "format": "decimal"}

    def __init__(self, *, positive: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.positive = positive

    def coerce(self, value):
        value = self.number(value)
        if not fits_numeric(value):
            raise Invalid()
        return value

    @staticmethod
    def number(value: Any) -> Decimal:
        """The grammar: the exact, finite Decimal of a JSON number or a numeric string; Invalid otherwise (the
        seed files read their decimals with it too)."""
        if isinstance(value, bool):
            raise Invalid()
        if isinstance(value, str):
            if not DECIMAL_TEXT.match(value):
                raise Invalid()
            try:
                value = Decimal(value)
            except InvalidOperation:
                raise Invalid() from None
        elif isinstance(value, int):
            value = Decimal(value)
        elif not isinstance(value, Decimal) or not value.is_finite():
            raise Invalid()
        return value

    def check(self, value):
        if self.positive and value <= 0:
            raise Invalid(NOT_VALID)
        return value


# --- output (entities) ------------------------------------------------------------------------------------------
# Declared on the output serializers for the OpenAPI document; the serializers render with one function each.


class AmountField(serializers.Field):
    def to_representation(self, value):
        return format_amount(value)


class TimeField(serializers.Field):
    def to_representation(self, value):
        return iso_time(value)


class NumberField(serializers.Field):
    """A decimal written as a bare JSON number with exactly its digits."""

    def to_representation(self, value):
        return JsonNumber(value)
