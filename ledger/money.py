"""Exact money arithmetic: NUMERIC(32,16) amounts as Decimal, never float.

Python's decimal context is per thread and starts at 28 digits in every new thread (gunicorn threads, test
threads), which would silently round 32-digit sums; all ledger arithmetic therefore runs in MONEY_CONTEXT.
"""

from collections.abc import Iterable
from decimal import ROUND_DOWN, Context, Decimal

# The exact-number helpers shared with the management API's fields live in the project package.
from peatio_mgmt.decimals import EXACT_CONTEXT as MONEY_CONTEXT
from peatio_mgmt.decimals import (
    MAX_FRACTION_DIGITS,
    MAX_INTEGER_DIGITS,
    fits_numeric,
    format_amount,
    significant_digits,
)

__all__ = ["MAX_FRACTION_DIGITS", "MAX_INTEGER_DIGITS", "MONEY_CONTEXT", "ZERO", "fits_numeric", "format_amount",
           "fraction_digits", "round_down", "total"]

ZERO = Decimal(0)


def fraction_digits(value: Decimal) -> int:
    """The number of decimals of a finite value once trailing zeros are removed (exact, whatever its length)."""
    return significant_digits(value)[1]


def total(values: Iterable[Decimal]) -> Decimal:
    """The exact sum (Python's sum() would round in the thread's context)."""
    result = ZERO
    for value in values:
        result = MONEY_CONTEXT.add(result, value)
    return result


def round_down(value: Decimal, decimals: int) -> Decimal:
    """value truncated towards zero to `decimals` places (withdraw sums, domain.md §6.1)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN, context=Context(prec=50))
