"""A small Bitcoin Core JSON-RPC server for the bitcoind gateway tests (http.server in a thread)."""

from __future__ import annotations

import hashlib
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeBitcoind:
    def __init__(self, balance: str = "10"):
        self.balance = Decimal(balance)
        self.sent: list[dict] = []  # {"txid", "address", "amount", "comment"}
        self.confirmations: dict[str, int] = {}
        self.calls: list[str] = []
        # The chain (deposit detection): blocks as {"hash", "previousblockhash", "tx": [...]}, index = height.
        self.blocks: list[dict] = []
        self.addresses: list[str] = []
        self.new_address_calls: list[tuple] = []
        self.mine()
        self.auth: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])), parse_float=Decimal)
                fake.auth.append(self.headers.get("Authorization"))
                fake.calls.append(request["method"])
                try:
                    body, status = {"result": getattr(fake, request["method"])(*request["params"]), "error": None}, 200
                except LookupError:
                    body, status = {"result": None, "error": {"code": -5, "message": "Invalid or non-wallet transaction id"}}, 500
                    if request["method"] == "getblockhash":
                        body["error"] = {"code": -8, "message": "Block height out of range"}
                data = json.dumps(body, default=str).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://rpcuser:secret@127.0.0.1:{self.server.server_address[1]}/wallet/hot"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # RPC methods ------------------------------------------------------------------------------------------------

    def getbalance(self):
        return self.balance

    def sendtoaddress(self, address, amount, comment=""):
        amount = Decimal(amount)
        self.balance -= amount
        txid = hashlib.sha256(f"{len(self.sent)}:{address}:{comment}".encode()).hexdigest()
        self.sent.append({"txid": txid, "address": address, "amount": amount, "comment": comment})
        self.confirmations[txid] = 0
        return txid

    def listtransactions(self, label="*", count=10, skip=0):
        entries = [{"category": "send", "txid": s["txid"], "comment": s["comment"], "amount": -s["amount"]} for s in self.sent]
        entries.insert(0, {"category": "receive", "txid": "ff" * 32, "amount": 5})
        return entries[skip:skip + count]

    def getnewaddress(self, label="", address_type="bech32"):
        self.new_address_calls.append((label, address_type))
        address = "bcrt1q" + hashlib.sha256(f"address:{len(self.addresses)}".encode()).hexdigest()[:38]
        self.addresses.append(address)
        return address

    def getblockcount(self):
        return len(self.blocks) - 1

    def getblockhash(self, height):
        if not 0 <= height < len(self.blocks):
            raise LookupError(height)  # bitcoind: -8 Block height out of range
        return self.blocks[height]["hash"]

    def getblock(self, block_hash, verbosity=1):
        for block in self.blocks:
            if block["hash"] == block_hash:
                return block
        raise LookupError(block_hash)

    # Test helpers: mine a block with transactions, reorganise the tip ------------------------------------------

    def mine(self, *payments: list[tuple[str, str]], coinbase_to: str = "bcrt1qminer", salt: str = "") -> list[str]:
        """Append a block: a coinbase paying `coinbase_to`, then one transaction per item of `payments`, each a
        list of (address, amount) outputs. Returns the txids of the payments."""
        height = len(self.blocks)
        parent = self.blocks[-1]["hash"] if self.blocks else "00" * 32
        coinbase = {"txid": hashlib.sha256(f"coinbase:{height}:{salt}".encode()).hexdigest(),
                    "vin": [{"coinbase": "03" + f"{height:06x}"}],
                    "vout": [{"n": 0, "value": Decimal("50"), "scriptPubKey": {"address": coinbase_to}}]}
        txs = [{"txid": hashlib.sha256(f"tx:{height}:{i}:{outputs}:{salt}".encode()).hexdigest(),
                "vin": [{"txid": "aa" * 32, "vout": 0}],
                "vout": [{"n": n, "value": Decimal(amount), "scriptPubKey": {"address": address}}
                         for n, (address, amount) in enumerate(outputs)]}
               for i, outputs in enumerate(payments)]
        block_hash = hashlib.sha256(f"block:{height}:{parent}:{salt}:{[t['txid'] for t in txs]}".encode()).hexdigest()
        self.blocks.append({"hash": block_hash, "height": height, "previousblockhash": parent,
                            "tx": [coinbase, *txs]})
        return [t["txid"] for t in txs]

    def reorg(self, depth: int) -> None:
        """Drop the last `depth` blocks; the caller mines the new branch (with another salt)."""
        del self.blocks[len(self.blocks) - depth:]

    def gettransaction(self, txid):
        if txid not in self.confirmations:
            raise LookupError(txid)
        return {"txid": txid, "confirmations": self.confirmations[txid]}
