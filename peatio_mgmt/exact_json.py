"""JSON whose numbers keep exactly their digits.

The standard library writes a Decimal only as a string or through a float, and reads a fraction as a float. The
management API's bodies (trade figures as bare numbers) and the partners' own JSON objects (a beneficiary's `data`,
kept in jsonb, whose numeric holds every digit) are written and read here instead: a number travels through
json.dumps as a marked string, then loses its quotes and marks; reading, a number with a fraction is a Decimal.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal

from django.db import models

_MARK = "\x00" + secrets.token_hex(8)  # a NUL: no stored or signed string holds one
_ENCODED_MARK = json.dumps(_MARK)[1:-1]
_MARKED_NUMBER = re.compile(
    '"' + re.escape(_ENCODED_MARK) + r"(-?[0-9]+(?:\.[0-9]+)?)" + re.escape(_ENCODED_MARK) + '"')


def plain(value: Decimal) -> str:
    """A finite Decimal in plain notation, as PostgreSQL prints a numeric: 1E+2 -> "100", 1.50 -> "1.50"."""
    return format(value, "f")


def dumps(value, number: Callable[[object], str | None], *, sort_keys: bool = False) -> str:
    """Compact UTF-8 JSON of `value`; an object `number` gives a text for (plain notation) is written as that
    bare number, any other object that json cannot write is refused (TypeError)."""

    def default(item):
        text = number(item)
        if text is None:
            raise TypeError(f"{type(item).__name__} is not JSON serializable here")
        return f"{_MARK}{text}{_MARK}"

    text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    if _ENCODED_MARK in text:
        text = _MARKED_NUMBER.sub(r"\1", text)
    return text


def decimal_number(item) -> str | None:
    return plain(item) if isinstance(item, Decimal) else None


class DecimalEncoder(json.JSONEncoder):
    """A JSONField's encoder: Decimal values written as bare numbers with exactly their digits."""

    def encode(self, o) -> str:
        return dumps(o, decimal_number)


# int() refuses more than 4,300 digits (sys.get_int_max_str_digits); jsonb prints 1e5000 as 5,001 of them.
_INT_DIGITS = 4300


def _integer(text: str) -> int | Decimal:
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


class DecimalDecoder(json.JSONDecoder):
    """A JSONField's decoder: a number with a fraction read as a Decimal, an integer as an int (a Decimal past
    int()'s limit)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "parse_float": Decimal, "parse_int": _integer})


class ExactJSONField(models.JSONField):
    """A JSONField whose numbers keep exactly their digits (DecimalEncoder, DecimalDecoder).

    Deconstructed as Django's JSONField: the encoder and decoder change no column, and migrations, frozen history,
    import no project code (tests/test_migrations.py); a historical model's field reads numbers as json does.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "encoder": DecimalEncoder, "decoder": DecimalDecoder})

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        return name, "django.db.models.JSONField", args, kwargs
