"""The `simulated` gateway (domain.md §7.5): deterministic, for development and tests.

txid = SHA-256 hex of "<currency>:<tid>"; confirmations = whole seconds since the send x
SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND. The hot wallet is unlimited unless SIMULATED_GATEWAY_HOT_WALLET_BALANCE
names the currency; then it shrinks by every amount sent.

The wallet is the table simulated_wallet_sends (withdraws.models.SimulatedSend) in PostgreSQL — durable, as a
node's wallet is; it used to live in the broker's Redis, and a Redis restart made sent coins look never sent (the
confirm worker then failed and refunded withdraws whose coins had left). The gateway writes it on a connection of
its own, in autocommit, as a node is a system of its own: a send stays made when the worker's transaction that
asked for it rolls back (a worker killed between sending and saving), which is what idempotency on the reference
is for. One send per (currency, reference) — the unique constraint; the hot-wallet check and the insert run under
a per-currency advisory lock, so two workers cannot both spend the last of a limited wallet.
"""

from __future__ import annotations

import hashlib
import os
import threading
from decimal import Decimal

import psycopg
from django.conf import settings
from django.db import connections

from ledger.money import MONEY_CONTEXT
from peatio_mgmt.postgresql.base import ended_by_server
from withdraws.gateways import FAILED, UNKNOWN, GatewayError, WalletGateway

UNLIMITED = Decimal("1e16")  # above any NUMERIC(32,16) amount
_local = threading.local()
_opened: list[psycopg.Connection] = []
_opened_lock = threading.Lock()


def wallet_connection() -> psycopg.Connection:
    """This thread's autocommit connection to the wallet's database (the default database), opened on first use
    and again after a fork, a broken connection, or the server's end of it while it sat idle (a PostgreSQL
    restart: the send would fail on it and the withdraw be errored for a wallet that is up)."""
    conn = getattr(_local, "conn", None)
    if conn is not None and not conn.closed and _local.pid == os.getpid() and ended_by_server(conn):
        conn.close()
    if conn is None or conn.closed or conn.broken or _local.pid != os.getpid():
        params = {**connections["default"].get_connection_params(), "autocommit": True}
        for django_only in ("cursor_factory", "context", "prepare_threshold", "server_side_binding"):
            params.pop(django_only, None)
        _local.conn, _local.pid = psycopg.connect(**params), os.getpid()
        with _opened_lock:
            _opened.append(_local.conn)
    return _local.conn


def close_wallet_connections() -> None:
    """Close the connections of every thread of this process (they reopen on next use): a test database cannot
    be dropped while one is open."""
    with _opened_lock:
        for conn in _opened:
            conn.close()
        _opened.clear()


def _query(sql: str, params: tuple = ()) -> list[tuple]:
    try:
        return wallet_connection().execute(sql, params).fetchall()
    except psycopg.Error as error:
        raise GatewayError(f"simulated wallet unreachable: {error}") from error


def simulated_txid(currency_id: str, reference: str) -> str:
    return hashlib.sha256(f"{currency_id}:{reference}".encode()).hexdigest()


def _limit(currency_id: str) -> Decimal | None:
    configured = settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE.get(currency_id)
    return None if configured is None else Decimal(configured)


class SimulatedGateway(WalletGateway):
    def __init__(self, settings_: dict):
        self.settings = settings_

    def hot_wallet_balance(self, currency):
        limit = _limit(currency.id)
        if limit is None:
            return UNLIMITED
        [(sent,)] = _query("SELECT COALESCE(SUM(amount), 0) FROM simulated_wallet_sends"
                           " WHERE currency = %s AND NOT conflicted", (currency.id,))
        return MONEY_CONTEXT.subtract(limit, sent)

    def send(self, currency, address, amount, reference):
        txid = simulated_txid(currency.id, reference)
        limit = _limit(currency.id)
        try:
            conn = wallet_connection()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                             (f"simulated-wallet:{currency.id}",))
                found = conn.execute("SELECT txid FROM simulated_wallet_sends WHERE currency = %s AND reference = %s",
                                     (currency.id, reference)).fetchone()
                if found:
                    return found[0]
                if limit is not None:
                    [(sent,)] = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM simulated_wallet_sends"
                                             " WHERE currency = %s AND NOT conflicted", (currency.id,)).fetchall()
                    if limit - sent < amount:
                        raise GatewayError("insufficient funds in the hot wallet")
                conn.execute(
                    "INSERT INTO simulated_wallet_sends (currency, reference, txid, address, amount, sent_at, conflicted)"
                    " VALUES (%s, %s, %s, %s, %s, clock_timestamp(), false)",
                    (currency.id, reference, txid, address, amount))
        except psycopg.Error as error:
            raise GatewayError(f"simulated wallet unreachable: {error}") from error
        return txid

    def find_transaction(self, currency, reference):
        try:
            rows = _query("SELECT txid FROM simulated_wallet_sends WHERE currency = %s AND reference = %s",
                          (currency.id, reference))
        except GatewayError:
            return UNKNOWN
        return rows[0][0] if rows else None

    def confirmations(self, currency, txid):
        rows = _query("SELECT conflicted, floor(extract(epoch FROM clock_timestamp() - sent_at))::bigint"
                      " FROM simulated_wallet_sends WHERE currency = %s AND txid = %s", (currency.id, txid))
        if not rows:
            return UNKNOWN  # never sent through this wallet, as far as it knows now: no answer, not a failure
        conflicted, elapsed = rows[0]
        if conflicted:
            return FAILED
        return max(elapsed, 0) * settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND

    def rebroadcast(self, currency, txid, address, amount, reference):
        """A txid of this wallet's own making is sent again from its reference (idempotent: once at most)."""
        if txid != simulated_txid(currency.id, reference):
            return False
        return self.send(currency, address, amount, reference) == txid
