"""A real Ethereum node for the tests: anvil from the npm package installed by `make test` (tools/anvil).

Each `Anvil` is its own process on a free port chosen by the kernel (`--port 0`; the port is read from its
"Listening on" line), stopped by its pid. Dev accounts come from anvil's default mnemonic; account 0 is the hot
wallet, the others send deposits. Deposit addresses derive from the account-1' xpub (domain.md §15.3), so they are
never dev accounts.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANVIL_BIN = os.environ.get("ANVIL_BIN") or str(ROOT / "tools/anvil/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
MNEMONIC = "test test test test test test test test test test test junk"
CHAIN_ID = 31337
HOT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
HOT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_XPUB = ("xpub6Ce9NcJvTk372KjsGfWqbcex5DumjpNquQLApoeQUavSCjEc823BV1tb4rXUuPuht8h2hSxkg2EXUaKUJmniJvRZAELxypsCzBF"
             "dtosmV76")
XPUB_ADDRESSES = ["0x8C8d35429F74ec245F8Ef2f4Fd1e551cFF97d650", "0x40FBBE484b8Ee6139Af08446950B088e10b2306A",
                  "0x2b382887D362cCae885a421C978c7e998D3c95a6"]
# Dev accounts 1 and 9 of the mnemonic (m/44'/60'/0'/0/i), with their keys for transactions signed locally.
DEV_KEYS = {
    1: ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    9: ("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
}
WEI = 10**18
_ids = itertools.count(1)


class RpcFailure(Exception):
    def __init__(self, error: dict):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code, self.message = error.get("code"), error.get("message", "")


class Anvil:
    def __init__(self):
        self.process = subprocess.Popen(
            [ANVIL_BIN, "--host", "127.0.0.1", "--port", "0", "--chain-id", str(CHAIN_ID), "--accounts", "10",
             "--balance", "10000", "--mnemonic", MNEMONIC],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 10
        self.port = None
        for line in self.process.stdout:
            found = re.search(r"Listening on 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                break
            if time.monotonic() > deadline:
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("anvil did not start listening within 10 s")
        # Keep reading its output so a full pipe never blocks the node.
        import threading
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def rpc(self, method: str, *params):
        body = json.dumps({"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read(), parse_float=Decimal)
        if answer.get("error"):
            raise RpcFailure(answer["error"])
        return answer["result"]

    # helpers ------------------------------------------------------------------------------------------------------

    def head(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    def balance(self, address: str) -> int:
        return int(self.rpc("eth_getBalance", address, "latest"), 16)

    def nonce(self, address: str, block: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", address, block), 16)

    def send(self, to: str, wei: int, *, sender: int = 1) -> str:
        """ether from dev account `sender` (anvil signs for its dev accounts); returns the hash once mined."""
        tx_hash = self.rpc("eth_sendTransaction", {"from": DEV_KEYS[sender][0], "to": to, "value": hex(wei)})
        self.receipt(tx_hash)
        return tx_hash

    def signed(self, to: str, wei: int, *, sender: int = 1, nonce: int | None = None) -> tuple[str, str]:
        """(raw, hash) of a transfer signed locally with a dev key (for anvil_reorg, which takes raw bytes)."""
        from withdraws.gateways.ethereum import Account  # eth-account without its recursion limit (see there)

        address, key = DEV_KEYS[sender]
        latest = self.rpc("eth_getBlockByNumber", "latest", False)
        base_fee = int(latest["baseFeePerGas"], 16)
        signed = Account.sign_transaction({
            "chainId": CHAIN_ID, "nonce": self.nonce(address, "pending") if nonce is None else nonce, "to": to,
            "value": wei, "gas": 21000, "maxFeePerGas": 2 * base_fee + 10**9, "maxPriorityFeePerGas": 10**9,
            "type": 2,
        }, key)
        return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()

    def receipt(self, tx_hash: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipt = self.rpc("eth_getTransactionReceipt", tx_hash)
            if receipt:
                return receipt
            time.sleep(0.02)
        raise AssertionError(f"{tx_hash} not mined in {timeout} s")


def write_hot_key(directory: Path, key: str = HOT_KEY, mode: int = 0o600) -> str:
    path = directory / "hot.key"
    path.write_text(key + "\n")
    path.chmod(mode)
    return str(path)
