"""Wallet gateways (domain.md §7.5): how the workers reach a coin currency's hot wallet.

One implementation per `currency.wallet_gateway` value; `gateway_for(currency)` builds it from the currency's
`wallet_settings`. Every gateway is idempotent on the reference: sending twice with the same withdraw tid returns
the first transaction, so a worker that dies between sending and saving cannot pay twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from ledger.models import Currency


class _Marker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


# find_transaction: the gateway could not tell; confirmations: the gateway does not know the transaction at the
# moment (never a reason to fail a withdraw: its coins may have left)
UNKNOWN = _Marker("UNKNOWN")
FAILED = _Marker("FAILED")  # confirmations: the definite answer that the transaction was reverted or conflicted


class GatewayError(Exception):
    """The gateway failed (unreachable, refused, malformed answer)."""


class SendDeferred(Exception):
    """The gateway will not send now (ethereum: the fee is above the cap); the withdraw is skipped with the reason."""


@dataclass(frozen=True)
class Transfer:
    """A successful transfer to a deposit address, as found in a block (domain.md §14.4)."""

    txid: str
    txout: int
    address: str
    base_units: int  # satoshi, wei: exact
    amount: Decimal  # base_units / base_factor, exact (may have more than 16 decimals)


@dataclass(frozen=True)
class Block:
    number: int
    hash: str
    parent_hash: str
    transfers: tuple[Transfer, ...]


# block(): which of the given recipient addresses are deposit addresses of the currency (one query).
DepositAddressFilter = Callable[[Iterable[str]], set[str]]


class WalletGateway:
    """The interface; `sends` is False for gateways where operators move the coins."""

    sends = True

    def hot_wallet_balance(self, currency: Currency) -> Decimal | None:
        """Spendable balance of the hot wallet, or None when it cannot be told."""
        raise NotImplementedError

    def send(self, currency: Currency, address: str, amount: Decimal, reference: str) -> str:
        """Send `amount` to `address`; returns the txid. Idempotent on `reference` (the withdraw's tid)."""
        raise NotImplementedError

    def find_transaction(self, currency: Currency, reference: str):
        """The txid sent with `reference`, None when there is none, UNKNOWN when the gateway cannot tell."""
        raise NotImplementedError

    def confirmations(self, currency: Currency, txid: str):
        """Confirmations (int >= 0) of the transaction; FAILED only when the node says it was reverted or
        conflicted; UNKNOWN when it does not know the transaction. Raises GatewayError when unreachable."""
        raise NotImplementedError

    # Deposits (domain.md §14.2, §14.4). A gateway that detects deposits implements all of these.

    detects_deposits = False

    def makes_addresses(self, currency: Currency) -> bool:
        return False

    def new_deposit_address(self, currency: Currency, uid: str, index: int) -> str:
        """A new deposit address for the member; `index` is the derivation index (ethereum). GatewayError."""
        raise NotImplementedError

    def head(self, currency: Currency) -> int:
        raise NotImplementedError

    def block_hash(self, currency: Currency, number: int) -> str | None:
        """The hash of block `number` of the canonical chain, None beyond the head."""
        raise NotImplementedError

    def block(self, currency: Currency, number: int, deposit_addresses: DepositAddressFilter) -> Block | None:
        """Block `number` with its successful transfers to deposit addresses; None beyond the head."""
        raise NotImplementedError

    def rebroadcast(self, currency: Currency, txid: str, address: str, amount: Decimal, reference: str) -> bool:
        """Broadcast again a transaction the node does not know; False where the gateway cannot."""
        return False


def gateway_for(currency: Currency) -> WalletGateway:
    from withdraws.gateways.bitcoind import BitcoindGateway
    from withdraws.gateways.ethereum import EthereumGateway
    from withdraws.gateways.manual import ManualGateway
    from withdraws.gateways.simulated_deposits import SimulatedGateway

    kinds = {"manual": ManualGateway, "simulated": SimulatedGateway, "bitcoind": BitcoindGateway,
             "ethereum": EthereumGateway}
    return kinds[currency.wallet_gateway or "manual"](currency.wallet_settings or {})
