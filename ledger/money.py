"""Exact money arithmetic: NUMERIC(32,16) amounts as Decimal, never float.

Python's decimal context is per thread and starts at 28 digits in every new thread (gunicorn threads, test
threads), which would silently round 32-digit sums; all ledger arithmetic therefore runs in MONEY_CONTEXT.
"""

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


def fits_numeric(value: Decimal) -> bool:
    """True when value is finite and has at most 16 integer and 16 fractional digits (trailing zeros aside)."""
    if not value.is_finite():
        return False
    if value.is_zero():
        return True
    sign, digits, exponent = value.normalize(MONEY_CONTEXT).as_tuple()
    fraction_digits = max(0, -exponent)
    integer_digits = max(0, len(digits) + exponent)
    return fraction_digits <= MAX_FRACTION_DIGITS and integer_digits <= MAX_INTEGER_DIGITS


def add(*values: Decimal) -> Decimal:
    total = ZERO
    for value in values:
        total = MONEY_CONTEXT.add(total, value)
    return total


def sub(a: Decimal, b: Decimal) -> Decimal:
    return MONEY_CONTEXT.subtract(a, b)


def mul(a: Decimal, b: Decimal) -> Decimal:
    return MONEY_CONTEXT.multiply(a, b)


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
