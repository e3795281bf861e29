"""The read replica (DATABASE_REPLICA_URL): reads go to it only inside `replica_reads()`, writes never.

Nothing is routed to the replica implicitly: a read that decides about money is made on the primary (under a row
lock, inside a transaction), and a replica lags. The management API's read routes opt in
(`ManagementViewSet.run_action`), unless the partner wrote within DATABASE_REPLICA_PIN_SECONDS
(peatio_mgmt.management_api.read_your_writes); `from_id` feeds read the primary (peatio_mgmt.sync).

Inside `replica_reads()` the primary is still read when no replica is configured, or inside a transaction open on
the primary (an atomic block's reads must see its own writes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

# Per thread (gthread workers) and per task: a ContextVar, not a global.
_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads(enabled: bool = True) -> Iterator[None]:
    """Reads inside go to the replica (when `enabled` and one is configured); `replica_reads(False)`: the primary."""
    token = _reading_replica.set(enabled and replica_configured())
    try:
        yield
    finally:
        _reading_replica.reset(token)


def reading_replica() -> bool:
    return _reading_replica.get()


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_replica.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same rows on both

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema through replication
