"""Helpers for tests that start other processes (fault tests, system tests) or outlive their own connections: how
they reach the test database, and how a server ends a session."""

from __future__ import annotations

import time
from urllib.parse import quote, urlencode

import psycopg
from django.db import connection


def database_url() -> str:
    """The test database (pytest-django's test_<name>) as a DATABASE_URL, for subprocesses and side connections.

    The embedded PostgreSQL is reached through a Unix socket: its HOST is a directory, which belongs in the
    `host` query parameter (libpq's form), not in the URL's netloc.
    """
    s = connection.settings_dict
    credentials = quote(s["USER"] or "postgres", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
    host, port = s["HOST"] or "", s["PORT"] or ""
    if host.startswith("/"):
        return f"postgresql://{credentials}@/{quote(s['NAME'])}?{urlencode({'host': host, **({'port': port} if port else {})})}"
    return f"postgresql://{credentials}@{host or 'localhost'}:{port or 5432}/{quote(s['NAME'])}"


def end_session(pid: int) -> None:
    """As a restart or an administrator would: the server ends the session of backend `pid` and closes its socket
    (waited for, so the ended connection is readable when this returns)."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    with psycopg.connect(**params, autocommit=True) as side:
        assert side.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 5
        while side.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            assert time.monotonic() < deadline, "the terminated backend did not end"
            time.sleep(0.01)
