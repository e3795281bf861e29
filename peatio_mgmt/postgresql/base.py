"""Django's PostgreSQL backend; a pooled connection the server ended while it sat idle is replaced as it is taken.

An idle connection in the pool has nothing to read: the server writes to it only when it ends the session — a
restart or failover (`FATAL: terminating connection due to administrator command`), `pg_terminate_backend`,
`idle_session_timeout` — and then closes it. So a socket that is readable as the connection is taken marks one the
request's first query would fail on (a 500): it is closed and handed back, the pool drops it and opens another,
and the next one is taken. One `poll` system call (not `select`, which fails on a descriptor past 1,023), where
psycopg_pool's own check (`CONN_HEALTH_CHECKS`, DATABASE_POOL_CHECK=1) costs a round trip per request. What it cannot see is a peer that vanished without closing
(a partitioned network): that needs the round trip (docs/deploy.md, "Connections").

Here and not as the pool's `check` option: Django passes that argument itself.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        while self.pool is not None and ended_by_server(connection):
            connection.close()
            self.pool.putconn(connection)
            connection = super().get_new_connection(conn_params)
        return connection


def ended_by_server(connection) -> bool:
    """Whether the server ended this idle connection (it is readable): any persistent connection (the simulated
    wallet's too) checks it before use."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))
