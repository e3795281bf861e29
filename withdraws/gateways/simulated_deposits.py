"""Deposits on the `simulated` gateway (domain.md §14.2, §14.4): deterministic addresses and a chain in Redis.

Kept beside withdraws.gateways.simulated (sends) so that the two evolve apart: `gateway_for` builds this subclass.
Head = whole seconds since the chain's genesis (SETNX at first use) x SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND;
block n has the hash SHA-256("<currency>:<n>") and never reorganises. `simulated_deposit_add` (manage.py
simulate_deposit) puts one transfer, txout 0, into block head + 1; a txid already used adds nothing.
"""

from __future__ import annotations

import hashlib
import time
from decimal import Context, Decimal

import redis
from django.conf import settings

from withdraws.addresses import BECH32_CHARSET, BECH32_CONST, _hrp_expand, _polymod, eip55_checksum
from withdraws.gateways import Block, GatewayError, Transfer
from withdraws.gateways.simulated import KEY_PREFIX
from withdraws.gateways.simulated import SimulatedGateway as SimulatedSends

_EXACT = Context(prec=80)


def _key(currency_id: str, name: str) -> str:
    return f"{KEY_PREFIX}:{currency_id}:chain:{name}"


def _bech32(hrp: str, witness_version: int, program: bytes) -> str:
    data, accumulator, bits = [witness_version], 0, 0
    for byte in program:
        accumulator, bits = (accumulator << 8) | byte, bits + 8
        while bits >= 5:
            bits -= 5
            data.append((accumulator >> bits) & 31)
    if bits:
        data.append((accumulator << (5 - bits)) & 31)
    checksum = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ BECH32_CONST
    data += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data)


def simulated_address(currency_id: str, address_format: str | None, uid: str) -> str:
    digest = hashlib.sha256(f"{currency_id}:{uid}".encode()).digest()
    if address_format == "ethereum":
        return eip55_checksum("0x" + digest[-20:].hex())
    if address_format == "bitcoin":
        return _bech32("bcrt", 0, digest[:20])
    return f"sim-{currency_id}-{uid.lower()}"


def block_hash_of(currency_id: str, number: int) -> str:
    return hashlib.sha256(f"{currency_id}:{number}".encode()).hexdigest()


class SimulatedGateway(SimulatedSends):
    detects_deposits = True

    def makes_addresses(self, currency):
        return True

    def new_deposit_address(self, currency, uid, index):
        return simulated_address(currency.id, currency.address_format, uid)

    def head(self, currency):
        try:
            self.redis.setnx(_key(currency.id, "genesis"), repr(time.time()))
            genesis = Decimal(self.redis.get(_key(currency.id, "genesis")))
        except redis.RedisError as error:
            raise GatewayError(str(error)) from error
        # whole seconds x the rate (a faster rate in tests counts fractions of a second too)
        return int((Decimal(repr(time.time())) - genesis) * settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND)

    def block_hash(self, currency, number):
        return block_hash_of(currency.id, number) if number <= self.head(currency) else None

    def block(self, currency, number, deposit_addresses):
        if number > self.head(currency):
            return None
        try:
            entries = self.redis.hgetall(_key(currency.id, f"block:{number}"))
        except redis.RedisError as error:
            raise GatewayError(str(error)) from error
        parsed = [(txid, *value.split(" ")) for txid, value in sorted(entries.items())]
        ours = deposit_addresses({address for _, address, _ in parsed}) if parsed else set()
        factor = Decimal(currency.base_factor)
        transfers = tuple(
            Transfer(txid=txid, txout=0, address=address, base_units=int(Decimal(amount).scaleb(0, _EXACT) * factor),
                     amount=Decimal(amount))
            for txid, address, amount in parsed if address in ours or address.lower() in ours
        )
        parent = block_hash_of(currency.id, number - 1) if number else "0" * 64
        return Block(number=number, hash=block_hash_of(currency.id, number), parent_hash=parent, transfers=transfers)

    def add_transfer(self, currency, address: str, amount: Decimal, txid: str | None = None) -> str:
        """One transfer to `address` in block head + 1; returns its txid. A txid already used adds nothing."""
        units = amount * Decimal(currency.base_factor)
        if amount <= 0 or units != units.to_integral_value():
            raise GatewayError(f"{amount} is not a positive whole number of base units of {currency.id}")
        if txid is None:
            counter = self.redis.incr(_key(currency.id, "counter"))
            txid = hashlib.sha256(f"{currency.id}:{address}:{amount}:{counter}".encode()).hexdigest()
        if self.redis.sadd(_key(currency.id, "txids"), txid):
            number = self.head(currency) + 1
            self.redis.hset(_key(currency.id, f"block:{number}"), txid, f"{address} {amount}")
        return txid
