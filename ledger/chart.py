"""The chart of accounts (domain.md §3): the default one, installed by migration 0002 and again after every flush,
and the look-up of the automatic postings' accounts by role, cached per process."""

from __future__ import annotations

from collections.abc import Iterable

from ledger import cache
from ledger.models import ChartAccount, Currency

DEFAULT_CHART = [
    # code, type, kind, currency type, scope, description
    (101, "asset", "main", "fiat", "platform", "Main Fiat Assets Account"),
    (102, "asset", "main", "coin", "platform", "Main Crypto Assets Account"),
    (201, "liability", "main", "fiat", "member", "Main Fiat Liabilities Account"),
    (202, "liability", "main", "coin", "member", "Main Crypto Liabilities Account"),
    (211, "liability", "locked", "fiat", "member", "Locked Fiat Liabilities Account"),
    (212, "liability", "locked", "coin", "member", "Locked Crypto Liabilities Account"),
    (301, "revenue", "main", "fiat", "platform", "Main Fiat Revenues Account"),
    (302, "revenue", "main", "coin", "platform", "Main Crypto Revenues Account"),
    (401, "expense", "main", "fiat", "platform", "Main Fiat Expenses Account"),
    (402, "expense", "main", "coin", "platform", "Main Crypto Expenses Account"),
]


def install_default_chart(chart_account_model) -> None:
    """Create the default accounts that are missing; existing rows (descriptions changed by a seed) are kept."""
    for code, type_, kind, currency_type, scope, description in DEFAULT_CHART:
        chart_account_model.objects.get_or_create(
            code=code,
            defaults={"type": type_, "kind": kind, "currency_type": currency_type, "scope": scope, "description": description},
        )


class Chart:
    """The chart of accounts of one event, read once (ten rows by default)."""

    def __init__(self, accounts: Iterable[ChartAccount] | None = None):
        accounts = list(ChartAccount.objects.all() if accounts is None else accounts)
        self.by_code = {a.code: a for a in accounts}
        self.by_role = {(a.type, a.kind, a.currency_type): a for a in accounts}

    def get(self, code: int) -> ChartAccount | None:
        return self.by_code.get(code)

    def account(self, type_: str, kind: str, currency: Currency) -> ChartAccount:
        """The account automatic postings use, found by (type, kind, currency type) — not by code (domain.md §3)."""
        return self.by_role[(type_, kind, currency.type)]


# The chart of the automatic postings, built from the per-process rows of ledger.cache (reloaded after a change
# in this process, a role not found, or the cache's TTL) and rebuilt only when those rows were reloaded.
_role_chart: tuple[dict, Chart] | None = None


def role_chart(*, reload: bool = False) -> Chart:
    global _role_chart
    rows = cache.chart_accounts.rows(reload=reload)
    if _role_chart is None or _role_chart[0] is not rows:
        _role_chart = (rows, Chart(rows.values()))
    return _role_chart[1]
