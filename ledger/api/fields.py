"""Management API parameters that resolve a code to a ledger row, through the reference cache (ledger.cache)."""

from __future__ import annotations

from collections.abc import Iterable

from ledger import cache
from peatio_mgmt.management_api.fields import NOT_VALID, Integer, Invalid, String


class CurrencyCode(String):
    """A currency code as stored (lowercase) or entirely uppercase; resolves to the Currency row (ledger.cache).

    `types` restricts the currency type (e.g. only fiat for /deposits/new).
    """

    def __init__(self, *, types: Iterable[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.types = tuple(types) if types is not None else None

    def check(self, value):
        code = value.lower() if value.isupper() else value
        currency = cache.currencies.get(code)
        if currency is None or (self.types is not None and currency.type not in self.types):
            raise Invalid(NOT_VALID)
        return currency


class ChartCode(Integer):
    """A code of the chart of accounts, optionally of given types; resolves to the ChartAccount row."""

    def __init__(self, *, types: Iterable[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.types = tuple(types) if types is not None else None

    def check(self, value):
        account = cache.chart_accounts.get(value)
        if account is None or (self.types is not None and account.type not in self.types):
            raise Invalid(NOT_VALID)
        return account
