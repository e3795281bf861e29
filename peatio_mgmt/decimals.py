"""The decimal context every thread of every process starts with (imported first by the project package).

Python gives each new thread a copy of `decimal.DefaultContext`: 28 digits unless changed. gunicorn's gthread
workers, Celery and the test runner all run code in threads created after start-up, so the default is raised here,
before any of them exists, to the 50 digits of `ledger.money.MONEY_CONTEXT` (which the money code still names
explicitly — this is the net under whatever arithmetic is not money: chart geometry, time differences).

Also the exact-number helpers every app and the management API's fields share: whether a value fits the amount
columns, and the one way amounts are written ("100.0").
"""

import decimal
from decimal import ROUND_HALF_EVEN, Clamped, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow

PRECISION = 50
# The amount columns are NUMERIC(32,16) in every app.
MAX_INTEGER_DIGITS = 16
MAX_FRACTION_DIGITS = 16

# 50 digits hold any sum of NUMERIC(32,16) values exactly; Inexact is trapped so a rounding can never go unnoticed.
EXACT_CONTEXT = Context(
    prec=PRECISION,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Clamped],
)


def install() -> None:
    decimal.DefaultContext.prec = PRECISION
    decimal.DefaultContext.rounding = decimal.ROUND_HALF_EVEN
    # The importing thread may already hold a context of its own (made on its first decimal operation).
    decimal.setcontext(decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN))


def significant_digits(value: Decimal) -> tuple[int, int]:
    """(integer digits, fractional digits) of a finite value, trailing zeros aside; zero is (0, 0).

    Works on the digit tuple alone — no context, no rounding — so absurd exponents ("1e999999999") are answered,
    not raised.
    """
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int), "a finite value"  # NaN and the infinities have 'n', 'N' or 'F' here
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
    integer_digits, fraction_digits = significant_digits(value)
    return fraction_digits <= MAX_FRACTION_DIGITS and integer_digits <= MAX_INTEGER_DIGITS


def format_amount(value: Decimal) -> str:
    """Plain notation, trailing fractional zeros removed, at least one fractional digit: "750.77", "100.0", "0.0"."""
    if value.is_zero():
        return "0.0"
    text = format(value.normalize(EXACT_CONTEXT), "f")
    if "." not in text:
        return text + ".0"
    return text
