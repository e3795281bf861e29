"""Incremental sync (management-api-extensions.md §5.3, §8.5): the settled id W of a table and the `from_id` page.

Writers publish a lower bound of the ids they will draw (the statement trigger of migration ledger 0004, on every
path that inserts). `settled_id` is the reader: one statement calling `sync_guard_settled_id`, which reads L from
the table's sequence, then B from pg_locks, and answers min(L, B). `feed_page` then reads rows `id > from_id AND
id <= W` in ascending id order, in statements issued after W was read — each in its own READ COMMITTED snapshot,
so every row with an id <= W whose transaction committed is seen. Both always read the primary: a replica cannot
see the primary's open writers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet
from psycopg import IsolationLevel

PRIMARY = "default"

# The advisory lock code of each guarded table (also written, frozen, in the migration that installs the trigger).
GUARD_CODES = {"deposits": 0x5101, "withdraws": 0x5102, "operations": 0x5103, "trades": 0x5104,
               # The partner event outbox: its sequencer numbers the rows up to W (coin-deposits-ethereum-events.md
               # §16.3), the same bound the from_id lists use.
               "events": 0x5105}


@dataclass(frozen=True)
class FeedPage:
    """One page of a `from_id` list: the rows (ascending id), Total of the whole set, and the W it was cut at."""

    rows: list
    total: int
    settled_id: int


def settled_id(table: str) -> int:
    """W of one of the guarded tables: every row with an id <= W that will ever commit has committed."""
    connection = connections[PRIMARY]
    connection.ensure_connection()
    # A snapshot taken before W would hide rows that commit after it: the list query must get a fresh one.
    # the PostgreSQL wrapper sets isolation_level; django-stubs declares it on the MySQL one only
    if connection.isolation_level != IsolationLevel.READ_COMMITTED:  # type: ignore[attr-defined]
        raise RuntimeError("settled_id needs READ COMMITTED: the list query's snapshot must follow the bound")
    with connection.cursor() as cursor:
        cursor.execute("SELECT sync_guard_settled_id(%s, %s::regclass)", [GUARD_CODES[table], table])
        return cursor.fetchone()[0]


def feed_page(queryset: QuerySet, *, from_id: int, page: int, limit: int) -> FeedPage:
    """The page of `queryset` (any filters, any values/values_list shape) above `from_id` and at most W, id
    ascending; Total counts the same set. A `from_id` at or above W answers no row and Total 0."""
    table = queryset.model._meta.db_table
    bound = settled_id(table)
    if from_id >= bound:
        return FeedPage([], 0, bound)
    window = queryset.using(PRIMARY).filter(id__gt=from_id, id__lte=bound)
    offset = (page - 1) * limit
    rows = list(window.order_by("id")[offset : offset + limit])
    # A page neither empty nor full tells the total by itself; otherwise COUNT the set.
    total = offset + len(rows) if 0 < len(rows) < limit else window.order_by().count()
    return FeedPage(rows, total, bound)
