"""Load test of the management API: mixed traffic from concurrent clients against gunicorn, then the books.

    python bench/load.py [--duration 60] [--clients 32] [--processes 4]

Recreates the database peatio_bench_load (migrated, usd, 1000 members funded through the ledger), writes a
configuration of two RS256 keys (verify_jti on: every request is signed fresh, with its own jti) and starts
gunicorn with the repo's gunicorn.conf.py (2 workers, as bench/http_bench.py). Then `--clients` clients (threads
spread over `--processes` forked processes, each client its own keep-alive connection over loopback) send for
`--duration` seconds a mix of: deposits created accepted, deposits created then accepted by /deposits/state,
withdraws created and processed (one request or new + /withdraws/action), platform operations (/revenues/new),
transfers of two operations, listings (/deposits, /withdraws, /liabilities of a member) and balance reads.

Every client owns its own members (transfers stay between them), so it knows exactly what each of its members'
balance and locked amount must be from the answers it got. After the run: any 5xx or unexpected status fails;
the expected balances are compared with the accounts rows, and the books check (ledger.books) must be clean —
a lost or doubled posting shows in one or the other. Prints requests/s and p50/p99 latency per route.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_HTTP_DATABASE"] = "peatio_bench_load"

from bench import http_bench  # noqa: E402  (sets DATABASE_URL to the load database)
from bench.gate import free_port, wait_ready, write_config  # noqa: E402

PREFIX = "/api/v2/management/"
FINAL_WITHDRAW_STATES = {"succeed": "paid", "canceled": "none", "rejected": "none", "failed": "none"}

# (weight, action): the mix of one client's requests.
MIX = [
    (12, "deposit_accepted"), (5, "deposit_then_accept"), (6, "withdraw_processed"), (4, "withdraw_then_process"),
    (5, "operation"), (14, "transfer"), (12, "listing"), (20, "balance"), (4, "timestamp"),
]


class Client:
    """One client: a keep-alive connection, its own members and what it expects of their accounts."""

    def __init__(self, port: int, uids: list[str], signers: list, seed: int):
        from peatio_mgmt.management_api.signing import new_jti, sign

        self._sign, self._jti = sign, new_jti
        self.port, self.uids, self.signers = port, uids, signers
        self.rng = random.Random(seed)
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.balance = defaultdict(Decimal)  # uid -> expected change of balance
        self.locked = defaultdict(Decimal)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.statuses: dict[int, int] = defaultdict(int)

    def call(self, verb: str, route: str, data: dict, expect: int) -> dict | list | None:
        body = json.dumps(self._sign({"iat": int(time.time()), "jti": self._jti(), "data": data}, self.signers))
        started = time.perf_counter()
        try:
            self.connection.request(verb, PREFIX + route, body, {"Content-Type": "application/json"})
            response = self.connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            self.failures.append(f"{verb} {route}: {error!r}")
            return None
        self.latencies[route].append(time.perf_counter() - started)
        self.statuses[response.status] += 1
        if response.status != expect:
            self.failures.append(f"{verb} {route} {data}: {response.status} {text[:300]!r}")
            return None
        return json.loads(text, parse_float=Decimal)

    def amount(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low, high)) / 100

    def step(self, pending_deposits: list, pending_withdraws: list) -> None:
        action = self.rng.choices([a for _, a in MIX], [w for w, _ in MIX])[0]
        uid = self.rng.choice(self.uids)
        if action == "deposit_accepted":
            deposit = self.call("POST", "deposits/new", {"uid": uid, "currency": "usd", "amount": str(self.amount(100, 5000)),
                                                         "tid": "LD" + secrets.token_hex(8), "state": "accepted"}, 201)
            if deposit is not None and deposit["state"] == "accepted":
                self.balance[uid] += Decimal(deposit["amount"])
        elif action == "deposit_then_accept":
            if pending_deposits and self.rng.random() < 0.5:
                tid, owner = pending_deposits.pop()
                deposit = self.call("PUT", "deposits/state", {"tid": tid, "state": "accepted"}, 200)
                if deposit is not None:
                    self.balance[owner] += Decimal(deposit["amount"])
            else:
                tid = "LD" + secrets.token_hex(8)
                if self.call("POST", "deposits/new", {"uid": uid, "currency": "usd", "amount": str(self.amount(100, 5000)),
                                                      "tid": tid}, 201) is not None:
                    pending_deposits.append((tid, uid))
        elif action in ("withdraw_processed", "withdraw_then_process"):
            if action == "withdraw_then_process" and pending_withdraws and self.rng.random() < 0.5:
                tid, owner, previous = pending_withdraws.pop()
                withdraw = self.call("PUT", "withdraws/action", {"tid": tid, "action": "process"}, 200)
                if withdraw is not None:
                    self._withdraw_moved(owner, Decimal(withdraw["amount"]), previous, withdraw["state"])
                return
            data = {"uid": uid, "currency": "usd", "amount": str(self.amount(1, 300)), "rid": "LOAD-RID",
                    "tid": "LW" + secrets.token_hex(8)}
            if action == "withdraw_processed":
                data["action"] = "process"
            withdraw = self.call("POST", "withdraws/new", data, 201)
            if withdraw is not None:
                self._withdraw_moved(uid, Decimal(withdraw["amount"]), None, withdraw["state"])
                if action == "withdraw_then_process" and withdraw["state"] not in FINAL_WITHDRAW_STATES:
                    pending_withdraws.append((withdraw["tid"], uid, withdraw["state"]))
        elif action == "operation":
            self.call("POST", "revenues/new", {"code": 301, "currency": "usd", "credit": str(self.amount(1, 100))}, 201)
        elif action == "transfer":
            source, destination = self.rng.sample(self.uids, 2)
            moved, fee = self.amount(1, 2000), self.amount(1, 10)
            transfer = self.call("POST", "transfers/new", {"key": secrets.randbits(62), "kind": "load", "operations": [
                {"currency": "usd", "amount": str(moved), "account_src": {"code": 201, "uid": source},
                 "account_dst": {"code": 201, "uid": destination}},
                {"currency": "usd", "amount": str(fee), "account_src": {"code": 201, "uid": source}, "account_dst": {"code": 301}},
            ]}, 201)
            if transfer is not None:
                self.balance[source] -= moved + fee
                self.balance[destination] += moved
        elif action == "listing":
            route = self.rng.choice(["deposits", "withdraws", "liabilities"])
            self.call("POST", route, {"uid": uid, "limit": 20}, 201)
        elif action == "balance":
            self.call("POST", "accounts/balance", {"uid": uid, "currency": "usd"}, 201)
        else:
            self.call("POST", "timestamp", {}, 201)

    def _withdraw_moved(self, uid: str, gross: Decimal, previous: str | None, state: str) -> None:
        """Withdraws here have no fee: submitting locks the amount, success takes it from locked."""

        def effect(current: str | None) -> tuple[Decimal, Decimal]:  # (balance, locked) change from nothing
            if current is None or FINAL_WITHDRAW_STATES.get(current) == "none":
                return Decimal(0), Decimal(0)
            if current == "succeed":
                return -gross, Decimal(0)
            return -gross, gross

        before, after = effect(previous), effect(state)
        self.balance[uid] += after[0] - before[0]
        self.locked[uid] += after[1] - before[1]


def _client_thread(client: Client, deadline: float) -> None:
    pending_deposits: list = []
    pending_withdraws: list = []
    while time.monotonic() < deadline:
        client.step(pending_deposits, pending_withdraws)
    client.connection.close()


def _process(port, groups, signers, deadline, seed, queue) -> None:
    clients = [Client(port, uids, signers, seed + i) for i, uids in enumerate(groups)]
    threads = [threading.Thread(target=_client_thread, args=(client, deadline)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put([{"balance": dict(c.balance), "locked": dict(c.locked), "latencies": dict(c.latencies),
                "failures": c.failures, "statuses": dict(c.statuses)} for c in clients])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes (the clients are their threads)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-load-"))
    config_path, signers = write_config(directory)
    document = yaml.safe_load(config_path.read_text())
    document["jwt"]["verify_jti"] = True
    config_path.write_text(yaml.safe_dump(document))
    os.environ["MANAGEMENT_API_CONFIG"] = str(config_path)
    uids, _ = http_bench.seed(plain=False)

    from django.db import connection, connections

    from ledger.books import books_check

    with connection.cursor() as cursor:
        cursor.execute("UPDATE currencies SET withdraw_fee = 0, deposit_fee = 0")
        cursor.execute("SELECT m.uid, a.balance, a.locked FROM accounts a JOIN members m ON m.id = a.member_id"
                       " WHERE a.currency_id = 'usd'")
        initial = {uid: (balance, locked) for uid, balance, locked in cursor.fetchall()}
    connections.close_all()

    port = free_port()
    server = http_bench.start("peatio_mgmt.wsgi:application", port, {**os.environ, "PYTHONPATH": str(ROOT)},
                              directory / "gunicorn.log")
    try:
        from peatio_mgmt.management_api.signing import new_jti, sign

        wait_ready(f"http://127.0.0.1:{port}{PREFIX}timestamp",
                   json.dumps(sign({"iat": int(time.time()), "jti": new_jti(), "data": {}}, signers)), deadline=60)
        members_per_client = len(uids) // args.clients
        groups = [uids[i * members_per_client:(i + 1) * members_per_client] for i in range(args.clients)]
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        started = time.monotonic()
        deadline = started + args.duration
        per_process = [groups[i::args.processes] for i in range(args.processes)]
        processes = [context.Process(target=_process, args=(port, chunk, signers, deadline, random.randrange(1 << 30), queue))
                     for chunk in per_process]
        for process in processes:
            process.start()
        results = [client for _ in processes for client in queue.get(timeout=args.duration + 300)]
        elapsed = time.monotonic() - started
        for process in processes:
            process.join()
    finally:
        server.terminate()
        server.wait(timeout=60)

    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)
    failures = []
    for result in results:
        for route, values in result["latencies"].items():
            latencies[route].extend(values)
        for status, count in result["statuses"].items():
            statuses[status] += count
        failures += result["failures"]
    total = sum(len(v) for v in latencies.values())
    print(f"{'route':<20}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for route in sorted(latencies, key=lambda r: -len(latencies[r])):
        values = latencies[route]
        print(f"{route:<20}{len(values):>10}{len(values) / elapsed:>9.1f}{percentile(values, 0.5) * 1e3:>9.1f}"
              f"{percentile(values, 0.99) * 1e3:>9.1f}")
    print(f"{'all':<20}{total:>10}{total / elapsed:>9.1f}   clients {args.clients}, {elapsed:.1f} s, statuses "
          + ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items())))

    # Expected against actual: every client's members, from the answers it got.
    expected_balance, expected_locked = defaultdict(Decimal), defaultdict(Decimal)
    for result in results:
        for uid, change in result["balance"].items():
            expected_balance[uid] += Decimal(change)
        for uid, change in result["locked"].items():
            expected_locked[uid] += Decimal(change)
    with connection.cursor() as cursor:
        cursor.execute("SELECT m.uid, a.balance, a.locked FROM accounts a JOIN members m ON m.id = a.member_id"
                       " WHERE a.currency_id = 'usd'")
        actual = {uid: (balance, locked) for uid, balance, locked in cursor.fetchall()}
    mismatches = []
    for uid in uids:
        start_balance, start_locked = initial.get(uid, (Decimal(0), Decimal(0)))
        want = (start_balance + expected_balance[uid], start_locked + expected_locked[uid])
        got = actual.get(uid, (Decimal(0), Decimal(0)))
        if want != got:
            mismatches.append(f"{uid}: expected balance/locked {want[0]}/{want[1]}, accounts say {got[0]}/{got[1]}")
    report = books_check()
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    print(f"5xx: {server_errors}; unexpected answers: {len(failures)}; balance mismatches: {len(mismatches)} of "
          f"{len(uids)} members; books check: {'OK' if report.ok else f'{len(report.breaches)} breaches'}")
    for line in (failures[:10] + mismatches[:10] + [f"BREACH {b.check} {b.detail}" for b in report.breaches[:10]]):
        print("  " + line)
    if server_errors or failures or mismatches or not report.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
