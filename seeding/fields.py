"""The seed's value types (seed-format.md §3), read by the management API's own parameter fields.

A seed value goes through the field the API reads a parameter of that kind with (peatio_mgmt.management_api.fields,
and a route's own field where the API has the same parameter: MemberNewParams, CurrencyListParams,
MarketListParams): one grammar for strings, integers, exact decimals and JSON objects. YAML is first turned into what
the API's JSON parse hands its fields: a float becomes the Decimal of its shortest text, as the API reads a JSON
number exactly (`parse_float=Decimal`), so `0.1` is exactly 0.1.

The words differ, and for a seed file seed-format.md's win: the API answers `<name> is invalid` or `<name> does not
have a valid value` (management-api.md §1.5), a seed problem names the rule and the value it got (`withdraw_fee: must
be a decimal >= 0, got "-0.1"`). An API field raises `Invalid` from its type check (`coerce`) or from its rule
(`check`); each seed field turns that into its sentence. What the API has no parameter for — booleans, ISO times,
lengths and ranges its services check — is the seed's own rule.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ledger.money import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, fits_numeric, fraction_digits
from peatio_mgmt.exact_json import DecimalDecoder, decimal_number, dumps
from peatio_mgmt.management_api.fields import NOT_VALID, ExactDecimal, Integer, Invalid, JsonObject, Param, String
from peatio_mgmt.management_api.serializers import Params

F = TypeVar("F", bound=Param)

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MARKET_FEE_MAX = Decimal("0.5")
MARKET_FEE_DECIMALS = 4


class FieldError(ValueError):
    """A refused value: the message after the field's name."""


def shown(raw: Any) -> str:
    """The value as the file wrote it, for messages: strings quoted, YAML scalars in YAML words."""
    if isinstance(raw, str):
        return json.dumps(raw, ensure_ascii=False)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    if isinstance(raw, (int, float)):
        return repr(raw)
    return f"a {type(raw).__name__}"


def as_json(raw: Any) -> Any:
    """The YAML value as the API's JSON parse would hand it to a field: floats as exact Decimals."""
    if isinstance(raw, float):
        return Decimal(repr(raw))
    if isinstance(raw, dict):
        return {key: as_json(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [as_json(value) for value in raw]
    return raw


class SeedField:
    """One field of a section: `read(raw)` is the typed value, or FieldError."""

    def read(self, raw: Any) -> Any:
        raise NotImplementedError


class Text(SeedField):
    """A string (a number is read as its text): the API's String, or a route's own string field.

    `choices` and a route field's own rule are the API's (`rule` words the refusal of the latter); the lengths, the
    pattern and lowercasing are the seed's (seed-format.md §4).
    """

    def __init__(self, param: String | None = None, *, min_length: int = 0, max_length: int | None = None,
                 pattern: str | None = None, lower: bool = False, nullable: bool = False, rule: str = ""):
        self.param = param if param is not None else String()
        self.min_length, self.max_length, self.pattern = min_length, max_length, pattern
        self.lower, self.nullable, self.rule = lower, nullable, rule

    def read(self, raw: Any) -> str | None:
        if raw is None and self.nullable:
            return None
        try:
            value = self.param.coerce(as_json(raw))
        except Invalid:
            raise FieldError(f"must be a string, got {shown(raw)}") from None
        if self.max_length is not None and not self.min_length <= len(value) <= self.max_length:
            raise FieldError(f"must be {self.min_length}–{self.max_length} characters, got {shown(raw)}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise FieldError(f"must be letters and digits, got {shown(raw)}")
        try:
            value = self.param.check(value)
        except Invalid:
            choices = self.param.choices
            rule = self.rule or (f"must be one of {', '.join(choices)}" if choices is not None else NOT_VALID)
            raise FieldError(f"{rule}, got {shown(raw)}") from None
        return value.lower() if self.lower else value


class Email(Text):
    """An address Django's validator accepts (the check of the API's member services), stored lowercase."""

    def __init__(self, param: String | None = None):
        super().__init__(param, max_length=255, lower=True)

    def read(self, raw: Any) -> str:
        value = super().read(raw)
        assert value is not None  # not nullable
        try:
            validate_email(value)
        except ValidationError:
            raise FieldError(f"must be a valid email address, got {shown(raw)}") from None
        return value


class Number(SeedField):
    """An integer: the API's Integer and its bounds (a column's range when the API has no such parameter)."""

    def __init__(self, param: Integer):
        self.param = param

    def read(self, raw: Any) -> int:
        # A YAML float (8.0) is no integer, as a JSON number with a fraction is none for the API.
        try:
            value = self.param.coerce(as_json(raw))
        except Invalid:
            raise FieldError(f"must be an integer, got {shown(raw)}") from None
        try:
            return self.param.check(value)
        except Invalid:
            minimum = self.param.minimum
            bound = f">= {minimum}" if minimum is not None and value < minimum else f"<= {self.param.maximum}"
            raise FieldError(f"must be an integer {bound}, got {shown(raw)}") from None


def integer(*, minimum: int | None = None, maximum: int = INT32_MAX) -> Number:
    """An integer column (int32 unless said otherwise) read by the API's Integer."""
    return Number(Integer(minimum=minimum, maximum=maximum))


class Amount(SeedField):
    """A decimal: the API's ExactDecimal (its grammar, NUMERIC(32,16), `positive`); never negative in a seed."""

    def __init__(self, *, positive: bool = False):
        self.param = ExactDecimal(positive=positive)

    def number(self, raw: Any) -> Decimal:
        """The exact value the file means, by the API's decimal grammar."""
        try:
            return ExactDecimal.number(as_json(raw))
        except Invalid:
            raise FieldError(f"must be a decimal, got {shown(raw)}") from None

    def read(self, raw: Any) -> Decimal:
        value = self.number(raw)
        # Never negative (seed-format.md §3); > 0 where `positive`, the API's rule.
        if value < 0 or not passes(self.param, value):
            raise FieldError(f"must be a decimal {'> 0' if self.param.positive else '>= 0'}, got {shown(raw)}")
        if not fits_numeric(value):  # the rest of the API's type check (ExactDecimal.coerce)
            raise FieldError(
                f"must have at most {MAX_INTEGER_DIGITS} integer and {MAX_FRACTION_DIGITS} fractional digits,"
                f" got {shown(raw)}"
            )
        return value


class MarketFee(Amount):
    def read(self, raw: Any) -> Decimal:
        value = self.number(raw)
        if not (0 <= value <= MARKET_FEE_MAX) or fraction_digits(value) > MARKET_FEE_DECIMALS:
            raise FieldError(f"must be a decimal from 0 to {MARKET_FEE_MAX} with at most {MARKET_FEE_DECIMALS} decimals,"
                             f" got {shown(raw)}")
        return value


class Flag(SeedField):
    """A YAML boolean (the API takes no boolean parameter)."""

    def read(self, raw: Any) -> bool:
        if not isinstance(raw, bool):
            raise FieldError(f"must be true or false, got {shown(raw)}")
        return raw


class JsonMapping(SeedField):
    """A JSON object: the API's JsonObject (plain JSON types, numbers with exactly their digits)."""

    param = JsonObject()

    def read(self, raw: Any) -> dict:
        if not isinstance(raw, dict):
            raise FieldError(f"must be a mapping, got {shown(raw)}")
        try:
            # YAML has more than JSON (dates, non-string keys): as stored, or refused here rather than by the database.
            return json.loads(dumps(self.param.coerce(as_json(raw)), decimal_number), cls=DecimalDecoder)
        except (Invalid, TypeError, ValueError):
            raise FieldError("must be a mapping of JSON values (strings, numbers, booleans, lists, mappings)") from None


class Moment(SeedField):
    """ISO 8601 text or a YAML timestamp; without a zone it is UTC (the API takes times as epoch integers)."""

    def read(self, raw: Any) -> datetime:
        if isinstance(raw, datetime):
            value = raw
        elif isinstance(raw, str):
            try:
                value = datetime.fromisoformat(raw)
            except ValueError:
                raise FieldError(f"must be an ISO 8601 date and time, got {shown(raw)}") from None
        else:
            raise FieldError(f"must be an ISO 8601 date and time, got {shown(raw)}")
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Ignored(SeedField):
    def read(self, raw: Any) -> None:
        return None


def passes(param: Param, value: Any) -> bool:
    """True when the API field's rule accepts the typed value."""
    try:
        param.check(value)
    except Invalid:
        return False
    return True


def route_field(params: type[Params], name: str, kind: type[F]) -> F:
    """The field a route of the API declares for the parameter `name` (of the class `kind`)."""
    field = params._declared_fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{params.__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}")
    return field
