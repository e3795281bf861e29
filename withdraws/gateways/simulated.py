"""The `simulated` gateway (domain.md §7.5): deterministic, for development and tests.

txid = SHA-256 hex of "<currency>:<tid>"; confirmations = whole seconds since the send x
SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND. Sends are remembered in Redis (settings.REDIS_URL) so that every
worker process sees the same wallet: one hash per currency, field = reference, value = "<sent_at> <amount>",
written with HSETNX so a repeated send returns the first transaction. The hot wallet is unlimited unless
SIMULATED_GATEWAY_HOT_WALLET_BALANCE names the currency; then it shrinks by every amount sent.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Decimal
from functools import cache

import redis
from django.conf import settings

from ledger.money import MONEY_CONTEXT, total
from withdraws.gateways import FAILED, UNKNOWN, GatewayError, WalletGateway

KEY_PREFIX = "simulated-gateway"


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def sends_key(currency_id: str) -> str:
    return f"{KEY_PREFIX}:{currency_id}:sends"


def txids_key(currency_id: str) -> str:
    return f"{KEY_PREFIX}:{currency_id}:txids"


def simulated_txid(currency_id: str, reference: str) -> str:
    return hashlib.sha256(f"{currency_id}:{reference}".encode()).hexdigest()


class SimulatedGateway(WalletGateway):
    def __init__(self, settings_: dict):
        self.settings = settings_

    @property
    def redis(self) -> redis.Redis:
        return _client(settings.REDIS_URL)

    def hot_wallet_balance(self, currency):
        configured = settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE.get(currency.id)
        if configured is None:
            return Decimal("1e16")  # unlimited: above any NUMERIC(32,16) amount
        try:
            sent = [Decimal(value.split(" ")[1]) for value in self.redis.hvals(sends_key(currency.id))]
        except redis.RedisError as error:
            raise GatewayError(str(error)) from error
        return MONEY_CONTEXT.subtract(Decimal(configured), total(sent))

    def send(self, currency, address, amount, reference):
        txid = simulated_txid(currency.id, reference)
        try:
            if self.redis.hsetnx(sends_key(currency.id), reference, f"{time.time()} {amount}"):
                self.redis.hset(txids_key(currency.id), txid, reference)
        except redis.RedisError as error:
            raise GatewayError(str(error)) from error
        return txid

    def find_transaction(self, currency, reference):
        try:
            found = self.redis.hexists(sends_key(currency.id), reference)
        except redis.RedisError:
            return UNKNOWN
        return simulated_txid(currency.id, reference) if found else None

    def confirmations(self, currency, txid):
        try:
            reference = self.redis.hget(txids_key(currency.id), txid)
            sent = reference and self.redis.hget(sends_key(currency.id), reference)
        except redis.RedisError as error:
            raise GatewayError(str(error)) from error
        if not sent:
            return FAILED  # never sent through this wallet: dropped
        elapsed = int(Decimal(time.time()) - Decimal(sent.split(" ")[0]))
        return int(elapsed * settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND)
