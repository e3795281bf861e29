"""Deposits on the `simulated` gateway (domain.md §14.2, §14.4): deterministic addresses and a chain in PostgreSQL.

Kept beside withdraws.gateways.simulated (sends) so that the two evolve apart: `gateway_for` builds this subclass.
Head = seconds since the chain's genesis (its row in simulated_chains, made at first use) x
SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND;
block n has the hash SHA-256("<currency>:<n>") and never reorganises. `simulated_deposit_add` (manage.py
simulate_deposit) puts one transfer, txout 0, into block head + 1; a txid already used adds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Context, Decimal

from django.conf import settings

from withdraws.addresses import BECH32_CHARSET, BECH32_CONST, _hrp_expand, _polymod, eip55_checksum
from withdraws.gateways import Block, GatewayError, Transfer
from withdraws.gateways.simulated import SimulatedGateway as SimulatedSends
from withdraws.gateways.simulated import _query

_EXACT = Context(prec=80)


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
        # The wallet's own connection (autocommit), like the sends: the chain is outside the worker's transaction.
        _query("INSERT INTO simulated_chains (currency, genesis) VALUES (%s, clock_timestamp())"
               " ON CONFLICT (currency) DO NOTHING RETURNING 1", (currency.id,))
        [(elapsed,)] = _query("SELECT EXTRACT(EPOCH FROM clock_timestamp() - genesis) FROM simulated_chains"
                              " WHERE currency = %s", (currency.id,))
        # seconds x the rate (a faster rate in tests counts fractions of a second too)
        return int(elapsed * settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND)

    def block_hash(self, currency, number):
        return block_hash_of(currency.id, number) if number <= self.head(currency) else None

    def block(self, currency, number, deposit_addresses):
        if number > self.head(currency):
            return None
        parsed = _query("SELECT txid, address, amount FROM simulated_chain_transfers"
                        " WHERE currency = %s AND block_number = %s ORDER BY txid", (currency.id, number))
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
        txid = txid or secrets.token_hex(32)
        _query("INSERT INTO simulated_chain_transfers (currency, txid, block_number, address, amount)"
               " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (currency, txid) DO NOTHING RETURNING 1",
               (currency.id, txid, self.head(currency) + 1, address, amount))
        return txid
