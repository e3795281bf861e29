"""The accounting reports: balance sheet and income statement per currency, from the journal.

Each is one aggregate query over operations (index operations(type, created_at)); every total is Σ(credit − debit),
the ledger's single sign convention (domain.md §1), exact NUMERIC summed by PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from ledger.models import AccountType, Currency
from ledger.money import MONEY_CONTEXT, ZERO

TOTALS_SQL = """
SELECT currency_id, type, SUM(credit - debit) FROM operations
WHERE type = ANY(%(types)s) AND created_at >= %(start)s AND created_at < %(end)s
GROUP BY currency_id, type
"""

# Plain strings: the query parameters are an array of text.
ASSET, LIABILITY, REVENUE, EXPENSE = (t.value for t in (AccountType.ASSET, AccountType.LIABILITY, AccountType.REVENUE, AccountType.EXPENSE))

# Bounds of the whole journal when a period end is open.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
END_OF_TIME = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BalanceSheetRow:
    currency: str
    assets: Decimal
    liabilities: Decimal
    revenues: Decimal
    expenses: Decimal

    @property
    def difference(self) -> Decimal:
        """assets − (liabilities + revenues − expenses): zero when the balance-sheet equation holds."""
        return MONEY_CONTEXT.subtract(
            self.assets, MONEY_CONTEXT.subtract(MONEY_CONTEXT.add(self.liabilities, self.revenues), self.expenses)
        )


@dataclass(frozen=True)
class IncomeRow:
    currency: str
    revenues: Decimal
    expenses: Decimal

    @property
    def profit(self) -> Decimal:
        return MONEY_CONTEXT.subtract(self.revenues, self.expenses)


def _totals(types: list[str], start: datetime | None, end: datetime | None) -> dict[str, dict[str, Decimal]]:
    """{currency: {account type: Σ(credit − debit)}} for every currency, zero where it has no posting."""
    with connection.cursor() as cursor:
        cursor.execute(TOTALS_SQL, {"types": types, "start": start or BEGINNING, "end": end or END_OF_TIME})
        rows = cursor.fetchall()
    totals = {currency: dict.fromkeys(types, ZERO) for currency in Currency.objects.values_list("id", flat=True)}
    for currency, type_, total in rows:
        totals.setdefault(currency, dict.fromkeys(types, ZERO))[type_] = total
    return totals


def balance_sheet(*, until: datetime | None = None) -> list[BalanceSheetRow]:
    """Totals of the postings made before `until` (all of them when None), per currency."""
    return [
        BalanceSheetRow(currency, t[ASSET], t[LIABILITY], t[REVENUE], t[EXPENSE])
        for currency, t in _totals([ASSET, LIABILITY, REVENUE, EXPENSE], None, until).items()
    ]


def income_statement(*, start: datetime, end: datetime) -> list[IncomeRow]:
    """Revenues and expenses posted in [start, end), per currency."""
    return [
        IncomeRow(currency, t[REVENUE], t[EXPENSE])
        for currency, t in _totals([REVENUE, EXPENSE], start, end).items()
    ]
