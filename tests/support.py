"""Helpers for tests that start other processes (fault tests, system tests): how they reach the test database."""

from __future__ import annotations

from urllib.parse import quote, urlencode

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
