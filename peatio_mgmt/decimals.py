"""The decimal context every thread of every process starts with (imported first by the project package).

Python gives each new thread a copy of `decimal.DefaultContext`: 28 digits unless changed. gunicorn's gthread
workers, Celery and the test runner all run code in threads created after start-up, so the default is raised here,
before any of them exists, to the 50 digits of `ledger.money.MONEY_CONTEXT` (which the money code still names
explicitly — this is the net under whatever arithmetic is not money: chart geometry, time differences).
"""

import decimal

PRECISION = 50


def install() -> None:
    decimal.DefaultContext.prec = PRECISION
    decimal.DefaultContext.rounding = decimal.ROUND_HALF_EVEN
    # The importing thread may already hold a context of its own (made on its first decimal operation).
    decimal.setcontext(decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN))
