"""The pooled connections (DATABASE_POOL, the default outside pytest): one the server ended while it sat idle in
the pool — a restart, `pg_terminate_backend` — is replaced as it is taken, not handed to a request to fail on.

The pool of an alias lives on Django's backend class, so each test names its own alias and closes its pool."""

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from tests.support import end_session

pytestmark = pytest.mark.django_db


def pooled(alias: str, engine: str) -> ConnectionHandler:
    """A `default` without a pool (as the test settings) and `alias`, the test database pooled as settings make it
    outside pytest (peatio_mgmt.settings.base.database_from_url), with one connection: the one the test ends."""
    settings = {key: value for key, value in connection.settings_dict.items() if key != "TEST"}
    entry = {**settings, "ENGINE": engine, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
             "OPTIONS": {**settings["OPTIONS"], "pool": {"min_size": 1, "max_size": 1, "timeout": 5}}}
    return ConnectionHandler({"default": settings, alias: entry})


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_the_server_ended_while_idle_is_replaced_as_it_is_taken():
    wrapper = pooled("pooled_check", "peatio_mgmt.postgresql")["pooled_check"]
    try:
        first = backend_pid(wrapper)
        wrapper.close()  # back to the pool, as at the end of a request
        end_session(first)

        second = backend_pid(wrapper)  # the next request's first query

        assert second != first
    finally:
        wrapper.close()
        wrapper.close_pool()


def test_without_the_check_the_next_query_fails_on_it():
    # Django's own backend, no CONN_HEALTH_CHECKS: what the check above spares the request
    wrapper = pooled("pooled_plain", "django.db.backends.postgresql")["pooled_plain"]
    try:
        first = backend_pid(wrapper)
        wrapper.close()
        end_session(first)

        with pytest.raises(Exception, match="terminating connection|server closed the connection|consuming input"):
            backend_pid(wrapper)
    finally:
        wrapper.close()
        wrapper.close_pool()
