"""Typed parameters of the management API routes, checked the way the contract says (management-api.md §1.5).

A route declares its parameters in order; `Params.parse(data)` checks each one — presence, then type, then rule,
stopping at the first failure of that parameter — then the group rules, and raises `ParameterError` with every
message joined by ", " (422 {"error": ...}). Values come out typed: str, int, Decimal (exact), Currency /
ChartAccount rows where the rule is "a currency code" or "a code of the chart", lists of dicts for arrays.

The same declarations describe the routes in the OpenAPI document (`describe()`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger import cache
from ledger.models import ChartAccount, Currency
from ledger.money import fits_numeric

MISSING = object()
INT64 = (-(2**63), 2**63 - 1)
INTEGER_TEXT = re.compile(r"[+-]?[0-9]+\Z")
INT64_DIGITS = 19
# Text PostgreSQL cannot store or compare (NUL) or UTF-8 cannot encode (a lone surrogate, as JSON's "\ud800" gives).
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")


class ParameterError(Exception):
    """422 {"error": "<messages joined by ', '>"}."""

    def __init__(self, messages: Sequence[str]):
        super().__init__(", ".join(messages))
        self.messages = list(messages)


class Invalid(Exception):
    """A value failed its type or rule; carries the message tail after the parameter's name."""

    def __init__(self, tail: str = "is invalid"):
        self.tail = tail


NOT_VALID = "does not have a valid value"


class Lookups:
    """Reference rows a parse resolves: currencies and chart accounts, from the process's cache (ledger.cache)."""

    def currency(self, code: str) -> Currency | None:
        return cache.currencies.get(code)

    def chart_account(self, code: int) -> ChartAccount | None:
        return cache.chart_accounts.get(code)


class Param:
    """One parameter: `required` is a bool or a function of the already parsed values of the same object."""

    openapi_type: dict = {"type": "string"}

    def __init__(self, name: str, *, required: bool | Callable[[dict], bool] = False, default: Any = MISSING,
                 description: str = ""):
        self.name = name
        self.required = required
        self.default = default
        self.description = description

    def is_required(self, values: dict) -> bool:
        return self.required(values) if callable(self.required) else self.required

    def coerce(self, value: Any, lookups: Lookups) -> Any:
        """Type check: return the typed value or raise Invalid()."""
        raise NotImplementedError

    def check(self, value: Any, lookups: Lookups) -> Any:
        """Rule check on the typed value: return the (possibly resolved) value or raise Invalid(tail)."""
        return value

    def parse(self, raw: Any, lookups: Lookups, path: str, values: dict, errors: list[str]) -> Any:
        """Presence, then `read`; a failure appends this parameter's one message to `errors`."""
        name = self.name if not path else f"{path}[{self.name}]"
        if raw is MISSING or raw is None:
            if self.is_required(values):
                errors.append(f"{name} is missing")
            return self.default
        try:
            return self.read(raw, lookups, name, errors)
        except Invalid as invalid:
            errors.append(f"{name} {invalid.tail}")
            return MISSING

    def read(self, raw: Any, lookups: Lookups, name: str, errors: list[str]) -> Any:
        """The typed value of a present member (type, then rule); raises Invalid."""
        return self.check(self.coerce(raw, lookups), lookups)

    def describe(self) -> dict:
        schema = dict(self.openapi_type)
        if self.description:
            schema["description"] = self.description
        if self.default is not MISSING:
            schema["default"] = self.default
        return schema


class String(Param):
    """A string without NUL or lone surrogates; a JSON number is read as its decimal text. `choices` restricts the
    values."""

    def __init__(self, name: str, *, choices: Iterable[str] | None = None, **kwargs):
        super().__init__(name, **kwargs)
        self.choices = tuple(choices) if choices is not None else None

    def coerce(self, value, lookups):
        if isinstance(value, str):
            if UNSTORABLE_TEXT.search(value):
                raise Invalid()
            return value
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise Invalid()
        return str(value)

    def check(self, value, lookups):
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

    def __init__(self, name: str, *, minimum: int | None = None, maximum: int | None = None,
                 range_message: str | None = None, **kwargs):
        super().__init__(name, **kwargs)
        self.minimum, self.maximum, self.range_message = minimum, maximum, range_message

    def coerce(self, value, lookups):
        if isinstance(value, bool):
            raise Invalid()
        if isinstance(value, str) and INTEGER_TEXT.match(value):
            # Digit count first: int() of thousands of digits is slow, and refused beyond 4300.
            if len(value.lstrip("+-").lstrip("0")) > INT64_DIGITS:
                raise Invalid()
            value = int(value)
        if not isinstance(value, int) or not INT64[0] <= value <= INT64[1]:
            raise Invalid()
        return value

    def check(self, value, lookups):
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
        super().__init__("page", default=1, minimum=1, range_message="must be greater than 0",
                         description="The page number (defaults to 1).")


class Limit(Integer):
    def __init__(self, maximum: int = 1000):
        super().__init__("limit", default=100, minimum=1, maximum=maximum,
                         range_message=f"must be in range: 1..{maximum}.",
                         description=f"The number of objects per page (defaults to 100, maximum is {maximum}).")


class DecimalParam(Param):
    """A JSON number (parsed exactly) or a numeric string, finite and fitting NUMERIC(32,16)."""

    openapi_type = {"type": "string", "format": "decimal"}

    def __init__(self, name: str, *, positive: bool = False, **kwargs):
        super().__init__(name, **kwargs)
        self.positive = positive

    def coerce(self, value, lookups):
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
        elif not isinstance(value, Decimal):
            raise Invalid()
        if not fits_numeric(value):
            raise Invalid()
        return value

    def check(self, value, lookups):
        if self.positive and value <= 0:
            raise Invalid(NOT_VALID)
        return value


class CurrencyCode(String):
    """A currency code as stored (lowercase) or entirely uppercase; resolves to the Currency row.

    `types` restricts the currency type (e.g. only fiat for /deposits/new).
    """

    def __init__(self, name: str = "currency", *, types: Iterable[str] | None = None, **kwargs):
        super().__init__(name, **kwargs)
        self.types = tuple(types) if types is not None else None

    def check(self, value, lookups):
        code = value.lower() if value.isupper() else value
        currency = lookups.currency(code)
        if currency is None or (self.types is not None and currency.type not in self.types):
            raise Invalid(NOT_VALID)
        return currency


class ChartCode(Integer):
    """A code of the chart of accounts, optionally of given types; resolves to the ChartAccount row."""

    def __init__(self, name: str = "code", *, types: Iterable[str] | None = None, **kwargs):
        super().__init__(name, **kwargs)
        self.types = tuple(types) if types is not None else None

    def check(self, value, lookups):
        account = lookups.chart_account(value)
        if account is None or (self.types is not None and account.type not in self.types):
            raise Invalid(NOT_VALID)
        return account


class Object(Param):
    """A JSON object whose members are parameters of their own (nested names: `name[member]`)."""

    openapi_type = {"type": "object"}

    def __init__(self, name: str, members: Sequence[Param], **kwargs):
        super().__init__(name, **kwargs)
        self.members = list(members)

    def read(self, raw, lookups, name, errors):
        if not isinstance(raw, dict):
            raise Invalid()
        return parse_members(self.members, raw, lookups, name, errors)

    def describe(self):
        return object_schema(self.members, self.description)


class ArrayOf(Param):
    """A non-empty JSON array of objects, each parsed with `members` (names `name[i][member]`)."""

    openapi_type = {"type": "array"}

    def __init__(self, name: str, members: Sequence[Param], **kwargs):
        super().__init__(name, **kwargs)
        self.members = list(members)

    def read(self, raw, lookups, name, errors):
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise Invalid()
        if not raw:
            raise Invalid("is empty")
        return [parse_members(self.members, item, lookups, f"{name}[{i}]", errors) for i, item in enumerate(raw)]

    def describe(self):
        schema = {"type": "array", "items": object_schema(self.members)}
        if self.description:
            schema["description"] = self.description
        return schema


class ExactlyOneOf:
    """Group rule: exactly one of the named parameters is present."""

    def __init__(self, *names: str):
        self.names = names

    def check(self, present: set[str]) -> str | None:
        given = [n for n in self.names if n in present]
        if len(given) > 1:
            return f"{', '.join(self.names)} are mutually exclusive"
        if not given:
            return f"{', '.join(self.names)} are missing, exactly one parameter must be provided"
        return None


def parse_members(members: Sequence[Param], raw: dict, lookups: Lookups, path: str, errors: list[str]) -> dict:
    values: dict[str, Any] = {}
    for param in members:
        value = param.parse(raw.get(param.name, MISSING), lookups, path, values, errors)
        values[param.name] = None if value is MISSING else value
    return values


def object_schema(members: Sequence[Param], description: str = "") -> dict:
    schema: dict = {
        "type": "object",
        "properties": {p.name: p.describe() for p in members},
    }
    required = [p.name for p in members if p.required is True]
    if required:
        schema["required"] = required
    if description:
        schema["description"] = description
    return schema


class Params:
    """The ordered parameters of one route and its group rules."""

    def __init__(self, *members: Param, groups: Sequence[ExactlyOneOf] = ()):
        self.members = list(members)
        self.groups = list(groups)

    def parse(self, data: dict | None, lookups: Lookups | None = None) -> dict:
        """Typed values by name (None where absent without default); raises ParameterError."""
        data = data or {}
        lookups = lookups or Lookups()
        errors: list[str] = []
        values = parse_members(self.members, data, lookups, "", errors)
        present = {name for name, value in data.items() if value is not None}
        for group in self.groups:
            message = group.check(present)
            if message:
                errors.append(message)
        if errors:
            raise ParameterError(errors)
        return values

    def describe(self) -> dict:
        return object_schema(self.members)
