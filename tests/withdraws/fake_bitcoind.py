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

    def gettransaction(self, txid):
        if txid not in self.confirmations:
            raise LookupError(txid)
        return {"txid": txid, "confirmations": self.confirmations[txid]}
