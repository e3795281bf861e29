"""Exact money arithmetic: NUMERIC(32,16) amounts as Decimal, never float.

Python's decimal context is per thread and starts at 28 digits in every new thread (gunicorn threads, test
threads), which would silently round 32-digit sums; all ledger arithmetic therefore runs in MONEY_CONTEXT.
"""

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Clamped, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow

MAX_INTEGER_DIGITS = 16
MAX_FRACTION_DIGITS = 16
ZERO = Decimal(0)

# 50 digits hold any sum of NUMERIC(32,16) values exactly; Inexact is trapped so a rounding can never go unnoticed.
MONEY_CONTEXT = Context(
    prec=50,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Clamped],
)


def _digits(value: Decimal) -> tuple[int, int]:
    """(integer digits, fractional digits) of a finite value, trailing zeros aside; zero is (0, 0).

    Works on the digit tuple alone — no context, no rounding — so absurd exponents ("1e999999999") are answered,
    not raised.
    """
    _, digits, exponent = value.as_tuple()
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
        exponent += 1
    if significant == 1 and digits[0] == 0:
        return 0, 0
    return max(0, significant + exponent), max(0, -exponent)


def fits_numeric(value: Decimal) -> bool:
    """True when value is finite and has at most 16 integer and 16 fractional digits (trailing zeros aside)."""
    if not value.is_finite():
        return False
    integer_digits, fraction_digits = _digits(value)
    return fraction_digits <= MAX_FRACTION_DIGITS and integer_digits <= MAX_INTEGER_DIGITS


def fraction_digits(value: Decimal) -> int:
    """The number of decimals of a finite value once trailing zeros are removed (exact, whatever its length)."""
    return _digits(value)[1]


def total(values: Iterable[Decimal]) -> Decimal:
    """The exact sum (Python's sum() would round in the thread's context)."""
    result = ZERO
    for value in values:
        result = MONEY_CONTEXT.add(result, value)
    return result


def round_down(value: Decimal, decimals: int) -> Decimal:
    """value truncated towards zero to `decimals` places (withdraw sums, domain.md §6.1)."""
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN, context=Context(prec=50))


def format_amount(value: Decimal) -> str:
    """Plain notation, trailing fractional zeros removed, at least one fractional digit: "750.77", "100.0", "0.0"."""
    if value.is_zero():
        return "0.0"
    text = format(value.normalize(MONEY_CONTEXT), "f")
    if "." not in text:
        return text + ".0"
    return text
