"""Single-flight work across processes: a PostgreSQL session advisory lock, tried and never waited for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def session_lock(*key: int) -> Iterator[bool]:
    """True inside when this session holds the advisory lock `key` (one bigint, or two ints), False when another
    session does. A session lock, not a transaction one: the holder runs several short transactions (and network
    calls between them) while it keeps the work to itself."""
    arguments = ", ".join(["%s"] * len(key))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_try_advisory_lock({arguments})", list(key))
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock({arguments})", list(key))
