"""The `bitcoind` gateway: Bitcoin Core's JSON-RPC over HTTP at `wallet_settings.rpc_url`.

getbalance for the hot wallet; sendtoaddress with the withdraw's tid as comment; listtransactions to find a
send by that comment (which makes `send` idempotent); gettransaction for confirmations (negative = conflicted,
the one definite failure; a txid the wallet does not know is UNKNOWN, never a failure).
Credentials, when needed, go in the URL (http://user:password@host:port/wallet/hot).
"""

from __future__ import annotations

import base64
import itertools
import json
import urllib.error
import urllib.request
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from ledger.money import format_amount
from withdraws.gateways import FAILED, UNKNOWN, Block, GatewayError, Transfer, WalletGateway

TIMEOUT_SECONDS = 10
PAGE = 500
RPC_INVALID_ADDRESS_OR_KEY = -5  # gettransaction: no such transaction in the wallet
_ids = itertools.count(1)


class RpcError(GatewayError):
    def __init__(self, code: int, message: str):
        super().__init__(f"RPC error {code}: {message}")
        self.code = code


class BitcoindGateway(WalletGateway):
    def __init__(self, settings: dict):
        parts = urlsplit(settings.get("rpc_url", ""))
        self.headers = {"Content-Type": "application/json"}
        if parts.username:
            token = base64.b64encode(f"{parts.username}:{parts.password or ''}".encode()).decode()
            self.headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else ""
        self.url = urlunsplit((parts.scheme, netloc, parts.path or "/", "", ""))

    def call(self, method: str, *params):
        body = json.dumps({"jsonrpc": "1.0", "id": next(_ids), "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                answer = json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            # bitcoind answers RPC errors with HTTP 500 and a JSON body
            try:
                answer = json.loads(error.read(), parse_float=Decimal)
            except ValueError:
                raise GatewayError(f"HTTP {error.code} from bitcoind") from error
        except (OSError, ValueError) as error:
            raise GatewayError(f"bitcoind unreachable: {error}") from error
        if not isinstance(answer, dict):
            # Valid JSON that is no JSON-RPC answer (a proxy's page, a broken node) is a gateway fault like any other:
            # left as an AttributeError it would escape find_transaction and stop the whole retry batch.
            raise GatewayError(f"malformed answer from bitcoind to {method}")
        if answer.get("error"):
            raise RpcError(answer["error"].get("code", 0), answer["error"].get("message", ""))
        return answer.get("result")

    def hot_wallet_balance(self, currency):
        try:
            return Decimal(str(self.call("getbalance")))
        except GatewayError:
            return None

    def send(self, currency, address, amount, reference):
        found = self.find_transaction(currency, reference)
        if found is UNKNOWN:
            raise GatewayError("cannot tell whether the withdraw was already sent")
        if found:
            return found
        # The amount travels as a decimal string (bitcoind accepts it), never through a binary float.
        return self.call("sendtoaddress", address, format_amount(amount), reference)

    def find_transaction(self, currency, reference):
        try:
            for skip in itertools.count(0, PAGE):
                page = self.call("listtransactions", "*", PAGE, skip)
                if not isinstance(page, list) or not all(isinstance(tx, dict) for tx in page):
                    raise GatewayError("malformed listtransactions answer from bitcoind")
                for tx in page:
                    if tx.get("category") == "send" and tx.get("comment") == reference:
                        return tx["txid"]
                if len(page) < PAGE:
                    return None
        except GatewayError:
            return UNKNOWN

    def confirmations(self, currency, txid):
        try:
            tx = self.call("gettransaction", txid)
        except RpcError as error:
            if error.code == RPC_INVALID_ADDRESS_OR_KEY:
                # Not in this wallet (a wallet restored from an older backup, another node behind the URL): no
                # answer about the transaction. Bitcoin Core rebroadcasts the wallet's own unconfirmed
                # transactions by itself; one it does not know it cannot, so there is nothing to rebroadcast here.
                return UNKNOWN
            raise
        confirmations = int(tx.get("confirmations", 0))
        return FAILED if confirmations < 0 else confirmations

    # Deposits (domain.md §14.2, §14.4): the node's wallet makes the addresses and holds their keys.

    detects_deposits = True
    RPC_OUT_OF_RANGE = -8  # getblockhash beyond the tip

    def makes_addresses(self, currency):
        return True

    def new_deposit_address(self, currency, uid, index):
        return self.call("getnewaddress", uid, (currency.wallet_settings or {}).get("address_type") or "bech32")

    def head(self, currency):
        return int(self.call("getblockcount"))

    def block_hash(self, currency, number):
        try:
            return self.call("getblockhash", number)
        except RpcError as error:
            if error.code in (self.RPC_OUT_OF_RANGE, RPC_INVALID_ADDRESS_OR_KEY):
                return None
            raise

    def block(self, currency, number, deposit_addresses):
        """getblock <hash> 2: every output to a deposit address, txout = its vout index; coinbases ignored."""
        block_hash = self.block_hash(currency, number)
        if block_hash is None:
            return None
        block = self.call("getblock", block_hash, 2)
        if not isinstance(block, dict) or block.get("hash") != block_hash:
            raise GatewayError(f"malformed getblock answer from bitcoind for block {number}")
        outputs = [
            (tx["txid"], vout["n"], vout["scriptPubKey"]["address"], Decimal(str(vout["value"])))
            for tx in block.get("tx", [])
            if not any("coinbase" in vin for vin in tx.get("vin", []))
            for vout in tx.get("vout", []) if vout.get("scriptPubKey", {}).get("address")
        ]
        ours = deposit_addresses({address for _, _, address, _ in outputs}) if outputs else set()
        factor = Decimal(currency.base_factor)
        transfers = []
        for txid, n, address, amount in outputs:
            units = amount * factor
            if address not in ours or amount <= 0 or units != units.to_integral_value():
                continue
            transfers.append(Transfer(txid=txid, txout=int(n), address=address, base_units=int(units), amount=amount))
        return Block(number=number, hash=block_hash, parent_hash=block.get("previousblockhash") or "00" * 32,
                     transfers=tuple(transfers))
