"""Optional read replica (DATABASE_REPLICA_URL): reads go to it only inside `replica()`.

Nothing is routed to the replica implicitly: a read that decides about money must see the primary (and is made
under a row lock anyway), and a replica lags. The list/get routes opt in by wrapping their selector call:

    with replica():
        rows, total = paginate(withdraw_list(filters=...), page=..., limit=...)

Without DATABASE_REPLICA_URL, or inside a transaction on the primary (an atomic block: its reads must see its own
writes), `replica()` reads the primary.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connections

REPLICA = "replica"

_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)


@contextmanager
def replica() -> Iterator[None]:
    token = _reading_replica.set(REPLICA in settings.DATABASES and not connections["default"].in_atomic_block)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return REPLICA if _reading_replica.get() else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"  # the replica follows the primary's schema through replication
