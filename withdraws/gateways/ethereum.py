"""The `ethereum` gateway (domain.md §15): JSON-RPC 2.0 at `wallet_settings.rpc_url`, native ether only.

Sending signs locally (eth-account) with the hot wallet key read from `hot_wallet_key_file` and stores the signed
bytes in `ethereum_transactions` inside the send's transaction; the bytes reach the node only after that commit
(`broadcast`, queued on commit, and again by `confirmations` until mined). A crash before the commit leaves no row
and nothing sent; after it, the same bytes are broadcast again, harmlessly: the withdraw is paid at most once.

Deposit addresses are derived watch-only from `deposit_xpub` (BIP-32, non-hardened 0/i): no deposit key on any
server. Amounts: wei are integers (hex read with int(x, 16)), ether amounts exact Decimals; nothing is a float.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import os
import re
import stat
import sys
import urllib.error
import urllib.request
from decimal import Context, Decimal
from urllib.parse import urlsplit, urlunsplit

_recursion_limit = sys.getrecursionlimit()
import coincurve  # noqa: E402
from bip32 import BIP32  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import is_address, keccak, to_checksum_address  # noqa: E402

# py_ecc, imported by eth-account, raises the interpreter's recursion limit to 100000 on import. With it a deeply
# nested JSON body (the API's tests send 100000 "[") overflows the C stack and kills the process instead of raising
# RecursionError. Nothing used here needs it: the limit is put back. Import eth-account through this module.
sys.setrecursionlimit(_recursion_limit)

from withdraws.gateways import FAILED, Block, GatewayError, SendDeferred, Transfer, WalletGateway  # noqa: E402

logger = logging.getLogger(__name__)

WEI_DECIMALS = 18
DEFAULT_GAS_LIMIT = 21000
DEFAULT_PRIORITY_FEE_WEI = 1_000_000_000
DEFAULT_MAX_FEE_CAP_WEI = 200_000_000_000
# 80 digits hold any wei amount a uint256 can carry, so these conversions never round.
_EXACT = Context(prec=80)
_KEY = re.compile(r"0x[0-9a-fA-F]{64}")
_ids = itertools.count(1)
_checked_chains: dict[tuple[str, int], bool] = {}  # (rpc_url, chain_id) checked against eth_chainId in this process


def wei_to_amount(wei: int) -> Decimal:
    """Exact: 1000000000000000001 wei -> Decimal('1.000000000000000001')."""
    return Decimal(wei).scaleb(-WEI_DECIMALS, context=_EXACT)


def amount_to_wei(amount: Decimal) -> int:
    """A x 10^18 on the Decimal; a non-integral result (more than 18 decimals) is a GatewayError."""
    value = amount.scaleb(WEI_DECIMALS, context=_EXACT)
    if value != value.to_integral_value() or value <= 0:
        raise GatewayError(f"Amount {amount} is not a positive whole number of wei")
    return int(value)


def derive_address(xpub: str, index: int) -> str:
    """EIP-55 address of the non-hardened child 0/index below an account-level xpub (domain.md §15.3)."""
    if not xpub.startswith(("xpub", "tpub")):
        raise GatewayError("deposit_xpub must be an extended public key (xpub)")
    try:
        public_key = BIP32.from_xpub(xpub).get_pubkey_from_path([0, index])
    except Exception as error:  # the library raises plain ValueErrors/asserts on malformed keys
        raise GatewayError(f"deposit_xpub cannot derive index {index}: {error}") from error
    uncompressed = coincurve.PublicKey(public_key).format(compressed=False)
    return to_checksum_address(keccak(uncompressed[1:])[-20:])


def _quantity(value) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise GatewayError(f"malformed quantity from the node: {value!r}")
    return int(value, 16)


class RpcError(GatewayError):
    def __init__(self, code: int, message: str):
        super().__init__(f"RPC error {code}: {message}")
        self.code = code
        self.message = message


class EthereumGateway(WalletGateway):
    detects_deposits = True

    def __init__(self, settings_: dict):
        self.settings = settings_
        self.rpc_url = settings_.get("rpc_url", "")
        parts = urlsplit(self.rpc_url)
        self.headers = {"Content-Type": "application/json"}
        if parts.username:
            token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self.chain_id = int(settings_.get("chain_id") or 0)
        self.hot_address = (settings_.get("hot_wallet_address") or "").lower()

    # --- JSON-RPC ---------------------------------------------------------------------------------------------

    def call(self, method: str, *params):
        body = json.dumps({"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=settings.ETHEREUM_RPC_TIMEOUT) as response:
                answer = json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            try:
                answer = json.loads(error.read(), parse_float=Decimal)
            except ValueError:
                raise GatewayError(f"HTTP {error.code} from the ethereum node") from error
        except (OSError, ValueError) as error:
            raise GatewayError(f"ethereum node unreachable: {error}") from error
        if not isinstance(answer, dict):
            raise GatewayError(f"malformed answer from the ethereum node to {method}")
        if answer.get("error"):
            failure = answer["error"] if isinstance(answer["error"], dict) else {"message": str(answer["error"])}
            raise RpcError(failure.get("code", 0), str(failure.get("message", "")))
        return answer.get("result")

    def check_chain(self) -> None:
        """The node's chain id must be the settings' (once per process): nothing is signed for another chain."""
        if _checked_chains.get((self.rpc_url, self.chain_id)):
            return
        node = _quantity(self.call("eth_chainId"))
        if node != self.chain_id:
            raise GatewayError(f"Chain id mismatch: node {node}, settings {self.chain_id}")
        _checked_chains[(self.rpc_url, self.chain_id)] = True

    # --- settings -----------------------------------------------------------------------------------------------

    def gas_limit(self, currency) -> int:
        return int(self.settings.get("gas_limit") or (currency.options or {}).get("gas_limit") or DEFAULT_GAS_LIMIT)

    @property
    def priority_fee(self) -> int:
        return int(self.settings.get("priority_fee_wei") or DEFAULT_PRIORITY_FEE_WEI)

    @property
    def fee_cap(self) -> int:
        return int(self.settings.get("max_fee_cap_wei") or DEFAULT_MAX_FEE_CAP_WEI)

    def hot_key(self) -> str:
        """The hot wallet's private key from its file, refused when others may read the file or when it is the key
        of another address. The key's text never appears in an error."""
        path = self.settings.get("hot_wallet_key_file")
        if not path or not self.hot_address:
            raise GatewayError("hot_wallet_address and hot_wallet_key_file are needed to send")
        try:
            mode = os.stat(path).st_mode
            text = open(path).read().strip()
        except OSError as error:
            raise GatewayError(f"Hot wallet key file {path} cannot be read: {error.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise GatewayError(f"Hot wallet key file {path} may be read by group or others (mode {stat.S_IMODE(mode):o})")
        if not _KEY.fullmatch(text):
            raise GatewayError(f"Hot wallet key file {path} does not hold 0x and 64 hex digits")
        if Account.from_key(text).address.lower() != self.hot_address:
            raise GatewayError(f"Hot wallet key file {path} is not the key of {self.hot_address}")
        return text

    def fees(self) -> tuple[int, int | None]:
        """(maxFeePerGas, maxPriorityFeePerGas) on an EIP-1559 chain, (gasPrice, None) on a legacy one."""
        latest = self.call("eth_getBlockByNumber", "latest", False) or {}
        if latest.get("baseFeePerGas") is not None:
            return 2 * _quantity(latest["baseFeePerGas"]) + self.priority_fee, self.priority_fee
        return _quantity(self.call("eth_gasPrice")), None

    # --- withdraws (domain.md §15.5–15.7) -----------------------------------------------------------------------

    def hot_wallet_balance(self, currency):
        """eth_getBalance(hot, pending) less the most gas a withdraw may cost at the current fee.

        An unreachable node raises GatewayError (the withdraw errs and the retry worker sends it when the node is
        back: scenario E9) rather than answering None (skipped, waiting for an operator)."""
        balance = _quantity(self.call("eth_getBalance", self.hot_address, "pending"))
        max_fee, _ = self.fees()
        return wei_to_amount(balance - self.gas_limit(currency) * max_fee)

    def find_transaction(self, currency, reference):
        """A database look-up: the hash of the withdraw's signed transaction, or None (never unknown)."""
        from withdraws.models import EthereumTransaction

        return EthereumTransaction.objects.filter(withdraw__tid=reference).values_list("hash", flat=True).first()

    def send(self, currency, address, amount, reference):
        """On a withdraw in processing with its row locked (inside the send's transaction): the stored hash when
        already signed; otherwise prepare over RPC, reserve the nonce, sign, store, and queue the broadcast for
        after the commit."""
        from withdraws.models import EthereumTransaction, Withdraw

        withdraw = Withdraw.objects.get(tid=reference)
        signed_before = EthereumTransaction.objects.filter(withdraw=withdraw).values_list("hash", flat=True).first()
        if signed_before:
            return signed_before
        if not is_address(address):
            raise GatewayError(f"Rid {address} is not an ethereum address")
        value = amount_to_wei(amount)
        self.check_chain()
        key = self.hot_key()
        gas_limit = self.gas_limit(currency)
        try:
            gas = _quantity(self.call("eth_estimateGas", {"from": self.hot_address, "to": address, "value": hex(value)}))
        except RpcError as error:
            raise GatewayError(f"Gas estimate failed: {error.message}") from None
        if gas > gas_limit:
            raise GatewayError(f"Recipient needs {gas} gas, gas_limit is {gas_limit}")
        max_fee, priority_fee = self.fees()
        if max_fee > self.fee_cap:
            raise SendDeferred(f"Fee {max_fee} above cap {self.fee_cap}")
        pending = _quantity(self.call("eth_getTransactionCount", self.hot_address, "pending"))

        with transaction.atomic():  # a savepoint: a failure leaves no row and consumes no nonce
            wallet = _lock_hot_wallet(self.chain_id, self.hot_address)
            if pending > wallet.next_nonce:
                logger.warning("hot wallet %s: the node's pending nonce %s is above ours (%s): the key was used "
                               "outside this system", self.hot_address, pending, wallet.next_nonce)
            nonce = max(wallet.next_nonce, pending)
            wallet.next_nonce = nonce + 1
            wallet.save(update_fields=["next_nonce", "updated_at"])
            fields = {"chainId": self.chain_id, "nonce": nonce, "to": to_checksum_address(address), "value": value,
                      "gas": gas}
            if priority_fee is None:
                fields["gasPrice"] = max_fee
            else:
                fields.update(type=2, maxFeePerGas=max_fee, maxPriorityFeePerGas=priority_fee)
            signed = Account.sign_transaction(fields, key)
            row = EthereumTransaction.objects.create(
                withdraw=withdraw, currency=currency, chain_id=self.chain_id, from_address=self.hot_address,
                to_address=address.lower(), nonce=nonce, value_wei=value, gas_limit=gas,
                max_fee_per_gas=max_fee if priority_fee is not None else None, max_priority_fee_per_gas=priority_fee,
                gas_price=max_fee if priority_fee is None else None,
                raw="0x" + bytes(signed.raw_transaction).hex(), hash="0x" + bytes(signed.hash).hex(),
            )
        transaction.on_commit(lambda: _queue_broadcast(row.pk))
        return row.hash

    def confirmations(self, currency, txid):
        """§15.6: the receipt's count, FAILED when reverted or when another transaction took our nonce; a
        transaction the node does not know is broadcast again and counts 0 — unknown is never FAILED."""
        from withdraws.models import EthereumTransaction

        receipt = self.call("eth_getTransactionReceipt", txid)
        if receipt and receipt.get("blockNumber"):
            block_number = _quantity(receipt["blockNumber"])
            EthereumTransaction.objects.filter(hash=txid).update(
                block_number=block_number, gas_used=_quantity(receipt["gasUsed"]),
                effective_gas_price=_quantity(receipt["effectiveGasPrice"]) if receipt.get("effectiveGasPrice") else None,
                updated_at=timezone.now(),
            )
            if _quantity(receipt["status"]) == 0:
                return FAILED
            return _quantity(self.call("eth_blockNumber")) - block_number + 1
        if self.call("eth_getTransactionByHash", txid):
            return 0
        row = EthereumTransaction.objects.filter(hash=txid).first()
        if row is None:
            return 0  # a hash this system never signed (recorded by an operator): nothing to rebroadcast
        if broadcast_row(self, row) == NONCE_TAKEN:
            return FAILED
        return 0

    # --- deposits (domain.md §14.4, §15.3, §15.4) ---------------------------------------------------------------

    def makes_addresses(self, currency):
        return bool(self.settings.get("deposit_xpub"))

    def new_deposit_address(self, currency, uid, index):
        xpub = self.settings.get("deposit_xpub")
        if not xpub:
            raise GatewayError("deposit_xpub is not set")
        return derive_address(xpub, index)

    def head(self, currency):
        return _quantity(self.call("eth_blockNumber"))

    def block_hash(self, currency, number):
        block = self.call("eth_getBlockByNumber", hex(number), False)
        return block["hash"] if block else None

    def block(self, currency, number, deposit_addresses):
        block = self.call("eth_getBlockByNumber", hex(number), True)
        if not block:
            return None
        candidates = [tx for tx in block.get("transactions", [])
                      if isinstance(tx, dict) and tx.get("to") and _quantity(tx["value"]) > 0]
        ours = deposit_addresses({tx["to"].lower() for tx in candidates}) if candidates else set()
        transfers = []
        for tx in candidates:
            if tx["to"].lower() not in ours:
                continue
            receipt = self.call("eth_getTransactionReceipt", tx["hash"])
            if not receipt or receipt.get("blockHash") != block["hash"]:
                raise GatewayError(f"block {number} changed while it was read")
            if _quantity(receipt["status"]) != 1:
                continue
            wei = _quantity(tx["value"])
            transfers.append(Transfer(txid=tx["hash"].lower(), txout=0, address=tx["to"].lower(), base_units=wei,
                                      amount=wei_to_amount(wei)))
        return Block(number=number, hash=block["hash"], parent_hash=block["parentHash"], transfers=tuple(transfers))


# --- broadcasting ---------------------------------------------------------------------------------------------------

BROADCAST, NONCE_TAKEN, REFUSED = "broadcast", "nonce taken", "refused"
_KNOWN = ("already known", "already imported")


def _lock_hot_wallet(chain_id: int, address: str):
    from withdraws.models import EthereumHotWallet

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ethereum_hot_wallets (chain_id, address, next_nonce, updated_at) VALUES (%s, %s, 0, now()) "
            "ON CONFLICT (chain_id, address) DO NOTHING", [chain_id, address],
        )
    return EthereumHotWallet.objects.select_for_update().get(chain_id=chain_id, address=address)


def _queue_broadcast(transaction_id: int) -> None:
    from withdraws.tasks import broadcast_ethereum

    broadcast_ethereum.delay(transaction_id)


def broadcast_row(gateway: EthereumGateway, row) -> str:
    """eth_sendRawTransaction of the stored bytes: BROADCAST when the node has them (accepted, already known, or
    nonce too low while the node knows our hash), NONCE_TAKEN when the nonce went to another transaction, REFUSED
    otherwise (message kept in last_error). GatewayError when the node cannot be reached."""
    from withdraws.models import EthereumTransaction

    rows = EthereumTransaction.objects.filter(pk=row.pk)
    try:
        gateway.call("eth_sendRawTransaction", row.raw)
    except RpcError as error:
        text = error.message.lower()
        if "nonce too low" in text:
            if not (gateway.call("eth_getTransactionByHash", row.hash)
                    or gateway.call("eth_getTransactionReceipt", row.hash)):
                rows.update(last_error=error.message, updated_at=timezone.now())
                return NONCE_TAKEN
        elif not any(known in text for known in _KNOWN):
            rows.update(last_error=error.message, updated_at=timezone.now())
            logger.warning("broadcast of %s refused: %s", row.hash, error.message)
            return REFUSED
    now = timezone.now()
    rows.update(broadcasts=F("broadcasts") + 1, broadcast_at=now, last_error=None, updated_at=now)
    return BROADCAST


def ethereum_transaction_broadcast(*, transaction_id: int) -> str | None:
    """The broadcast task's service: send the stored bytes once more (no database transaction is open across the
    node call). Unreachable node: the error is kept and the confirm worker broadcasts again."""
    from withdraws.gateways import gateway_for
    from withdraws.models import EthereumTransaction

    row = EthereumTransaction.objects.select_related("currency").filter(pk=transaction_id).first()
    if row is None or row.block_number is not None:
        return None
    gateway = gateway_for(row.currency)
    assert isinstance(gateway, EthereumGateway)  # the currency that signed an ethereum transaction
    try:
        return broadcast_row(gateway, row)
    except GatewayError as error:
        EthereumTransaction.objects.filter(pk=row.pk).update(last_error=str(error), updated_at=timezone.now())
        return None
