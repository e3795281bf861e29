"""Small reference tables (currencies, the chart of accounts) kept per process for the request path.

Every management API request resolves its currency and chart codes (params.Lookups); reading the whole table
per request was one query (and a dozen model instances) on every route. A process keeps the rows; a save or
delete of the model in this process reloads them at the next read, a key not found reloads once (a row another
process created), and `TTL` bounds how long another process's change (an operator disabling a currency, a new
fee) can go unseen.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from ledger.models import ChartAccount, Currency

TTL = 10.0


class RowCache:
    def __init__(self, model, key: str):
        self.model, self.key = model, key
        self._loaded: tuple[float, dict] | None = None
        uid = f"ledger.cache.{model.__name__}"
        post_save.connect(self.clear, sender=model, dispatch_uid=uid + ".save", weak=False)
        post_delete.connect(self.clear, sender=model, dispatch_uid=uid + ".delete", weak=False)

    def clear(self, **kwargs) -> None:
        self._loaded = None

    def rows(self, *, reload: bool = False) -> dict:
        loaded = self._loaded
        if reload or loaded is None or time.monotonic() - loaded[0] > TTL:
            loaded = (time.monotonic(), {getattr(row, self.key): row for row in self.model.objects.all()})
            self._loaded = loaded  # one assignment: threads of a worker see the old or the new dict, never half
        return loaded[1]

    def get(self, key: Any):
        """The row with this key, or None; a miss reloads once."""
        row = self.rows().get(key)
        return row if row is not None else self.rows(reload=True).get(key)


currencies = RowCache(Currency, "id")
chart_accounts = RowCache(ChartAccount, "code")
