"""Load test of the management API: mixed traffic from concurrent clients against gunicorn, then the books.

    python bench/load.py [--duration 60] [--clients 32] [--processes 4]
                         [--web 2 --workers 2 --beat --kill-after 30]      (bench/scale.sh)

Recreates the database peatio_bench_load (migrated, usd, 1000 members funded through the ledger), writes a
configuration of two RS256 keys (verify_jti on: every request is signed fresh, with its own jti) and starts
`--web` gunicorn masters (the repo's gunicorn.conf.py, 2 workers each, as bench/http_bench.py; each on its own
port), `--workers` Celery workers and, with `--beat`, one beat. Then `--clients` clients (threads spread over
`--processes` forked processes, each client its own keep-alive connection to one of the servers, spread evenly)
send for `--duration` seconds a mix of: deposits created accepted, deposits created then accepted by
/deposits/state, withdraws created and processed (one request or new + /withdraws/action), platform operations
(/revenues/new), transfers of two operations, listings (/deposits, /withdraws, /liabilities of a member) and
balance reads. `--kill-after S`: at S seconds, SIGKILL the last web server (master and workers) and the last
worker (with its pool); a client whose connection breaks moves to the next server and sends the request again
when that is safe — creations with the same tid/key (a retry is answered with the stored record) and reads; a
lost PUT /deposits/state is settled by reading the deposit; a lost /revenues/new or /withdraws/action is counted.
Listings and balance reads are signed by a second, read-only partner (`bench-reader`): with a replica
(DATABASE_REPLICA_URL) they are the reads it serves, the writing partner's own reads staying on the primary.

Every client owns its own members (transfers stay between them), so it knows exactly what each of its members'
balance and locked amount must be: from the answers it got for deposits and transfers, and from the state each
withdraw it sent ends in (the workers move them after the answers). After the run (servers and workers stopped):
any 5xx or unexpected status fails; the expected balances are compared with the accounts rows, and the books
check (ledger.books) must be clean — a lost or doubled posting shows in one or the other. Prints requests/s and
p50/p99 latency per route.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import signal
import subprocess
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
READER = "bench-reader"
FINAL_WITHDRAW_STATES = {"succeed": "paid", "canceled": "none", "rejected": "none", "failed": "none"}

# (weight, action): the mix of one client's requests.
MIX = [
    (12, "deposit_accepted"), (5, "deposit_then_accept"), (6, "withdraw_processed"), (4, "withdraw_then_process"),
    (5, "operation"), (14, "transfer"), (12, "listing"), (20, "balance"), (4, "timestamp"),
]


# Creations keyed by a tid/key: sent again with the same data after a broken connection, they are answered with the
# stored record if the first attempt committed (management-api.md §1.8). Reads are safe to send again.
RETRIED = {"deposits/new", "withdraws/new", "transfers/new", "deposits/get", "deposits", "withdraws", "liabilities",
           "accounts/balance", "timestamp"}
LOST = object()  # the answer of a request that is not sent again (a PUT, /revenues/new) was lost with its server


def withdraw_effect(state: str | None, gross: Decimal) -> tuple[Decimal, Decimal]:
    """(balance, locked) change of a withdraw in `state` (None: never created). Withdraws here have no fee:
    submitting locks the amount, success takes it from locked, a refusal or cancellation gives it back."""
    if state is None or FINAL_WITHDRAW_STATES.get(state) == "none":
        return Decimal(0), Decimal(0)
    if state == "succeed":
        return -gross, Decimal(0)
    return -gross, gross


class Client:
    """One client: a keep-alive connection to one of the servers, its own members and what it expects of their
    accounts. When its server goes away mid-request it moves to the next server and sends the request again if
    that is safe (RETRIED): the same data, signed again (a new jti: the first one may have been recorded)."""

    def __init__(self, ports: list[int], uids: list[str], signers: dict[str, list], seed: int):
        from peatio_mgmt.management_api.signing import new_jti, sign

        self._sign, self._jti = sign, new_jti
        self.ports, self.server = ports, seed % len(ports)
        self.uids, self.signers = uids, signers  # "partner", "partner reading" (with the reporting key), "reporting"
        self.rng = random.Random(seed)
        self.connection = self._connect()
        self.balance = defaultdict(Decimal)  # uid -> expected change of balance (deposits and transfers)
        self.withdraws: dict[str, tuple[str, Decimal]] = {}  # every withdraw tid sent -> (uid, amount): their
        # effect is computed from the states they end in (workers move them after the answers)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        self.statuses: dict[int, int] = defaultdict(int)
        self.retried = 0  # requests sent again after their connection broke (in flight on a killed server)
        self.lost = 0  # answers lost with a killed server, not sent again

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.ports[self.server], timeout=60)

    def call(self, verb: str, route: str, data: dict, expect: int, signer: str = "partner"):
        """The answer's JSON; None on an unexpected status (recorded as a failure); LOST (see above)."""
        started = time.perf_counter()
        for attempt in range(2 * len(self.ports)):
            body = json.dumps(self._sign({"iat": int(time.time()), "jti": self._jti(), "data": data},
                                         self.signers[signer]))
            try:
                self.connection.request(verb, PREFIX + route, body, {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                text = response.read()
                break
            except (OSError, http.client.HTTPException) as error:
                self.connection.close()
                self.server = (self.server + 1) % len(self.ports)
                self.connection = self._connect()
                if route not in RETRIED:
                    self.lost += 1
                    return LOST
                if attempt == 2 * len(self.ports) - 1:
                    self.failures.append(f"{verb} {route}: {error!r}")
                    return None
                self.retried += 1
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
                if deposit is LOST:  # accepted or not: the record says
                    deposit = self.call("POST", "deposits/get", {"tid": tid}, 201, signer="partner reading")
                    if deposit is not None and deposit["state"] != "accepted":
                        pending_deposits.append((tid, owner))
                        return
                if deposit is not None:
                    self.balance[owner] += Decimal(deposit["amount"])
            else:
                tid = "LD" + secrets.token_hex(8)
                if self.call("POST", "deposits/new", {"uid": uid, "currency": "usd", "amount": str(self.amount(100, 5000)),
                                                      "tid": tid}, 201) is not None:
                    pending_deposits.append((tid, uid))
        elif action in ("withdraw_processed", "withdraw_then_process"):
            if action == "withdraw_then_process" and pending_withdraws and self.rng.random() < 0.5:
                self.call("PUT", "withdraws/action", {"tid": pending_withdraws.pop(), "action": "process"}, 200)
                return
            data = {"uid": uid, "currency": "usd", "amount": str(self.amount(1, 300)), "rid": "LOAD-RID",
                    "tid": "LW" + secrets.token_hex(8)}
            if action == "withdraw_processed":
                data["action"] = "process"
            self.withdraws[data["tid"]] = (uid, Decimal(data["amount"]))
            withdraw = self.call("POST", "withdraws/new", data, 201)
            if withdraw is not None and action == "withdraw_then_process" and withdraw["state"] not in FINAL_WITHDRAW_STATES:
                pending_withdraws.append(withdraw["tid"])
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
            self.call("POST", route, {"uid": uid, "limit": 20}, 201, signer="reporting")
        elif action == "balance":
            self.call("POST", "accounts/balance", {"uid": uid, "currency": "usd"}, 201, signer="reporting")
        else:
            self.call("POST", "timestamp", {}, 201)


def _client_thread(client: Client, deadline: float) -> None:
    pending_deposits: list = []
    pending_withdraws: list = []
    while time.monotonic() < deadline:
        client.step(pending_deposits, pending_withdraws)
    client.connection.close()


def _process(ports, groups, signers, deadline, seed, queue) -> None:
    clients = [Client(ports, uids, signers, seed + i) for i, uids in enumerate(groups)]
    threads = [threading.Thread(target=_client_thread, args=(client, deadline)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put([{"balance": dict(c.balance), "withdraws": c.withdraws, "latencies": dict(c.latencies),
                "failures": c.failures, "statuses": dict(c.statuses), "retried": c.retried, "lost": c.lost}
               for c in clients])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Topology:
    """The processes under load: `web` gunicorn masters (each its own port), `workers` Celery workers, one beat.
    Each in a session of its own, so that `kill` takes a master or a worker with all its children (SIGKILL: a
    machine lost, nothing finishes)."""

    def __init__(self, directory: Path, web: int, workers: int, beat: bool):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.ports = [free_port() for _ in range(web)]
        self.web = [http_bench.start("peatio_mgmt.wsgi:application", port, env, directory / f"gunicorn-{i}.log")
                    for i, port in enumerate(self.ports)]
        celery = [sys.executable, "-m", "celery", "-A", "peatio_mgmt"]
        self.workers = [self._start(celery + ["worker", "-c", "2", "-n", f"load{i}@%h", "--loglevel", "INFO"], env,
                                    directory / f"worker-{i}.log") for i in range(workers)]
        self.beat = [self._start(celery + ["beat", "--loglevel", "INFO", "--schedule", str(directory / "beat-schedule")],
                                 env, directory / "beat.log")] if beat else []

    @staticmethod
    def _start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                                start_new_session=True)

    def kill_one(self) -> None:
        """SIGKILL the last web server and the last worker, with their children."""
        for process in (self.web[-1:] + self.workers[-1:]):
            os.killpg(process.pid, signal.SIGKILL)
        print(f"killed (SIGKILL) web server :{self.ports[-1]}" + (" and one worker" if self.workers else ""),
              flush=True)

    def stop(self) -> None:
        processes = self.web + self.workers + self.beat
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4, help="client processes (the clients are their threads)")
    parser.add_argument("--web", type=int, default=1, help="gunicorn masters, each on its own port")
    parser.add_argument("--workers", type=int, default=0, help="Celery workers (-c 2 each)")
    parser.add_argument("--beat", action="store_true", help="and one Celery beat")
    parser.add_argument("--kill-after", type=float, help="SIGKILL the last web server and the last worker then "
                        "(seconds into the run); their clients move to the other server(s)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-load-"))
    config_path, partner = write_config(directory)
    document = yaml.safe_load(config_path.read_text())
    document["jwt"]["verify_jti"] = True
    # A second partner, for reads only (a reporting service): the read_* scopes require its signature, which the
    # partner adds to its own reads (its settling /deposits/get). Its listings and balance reads are the ones the replica serves: the
    # partner writes all the time, so its own reads stay on the primary (read-your-writes, docs/deploy.md).
    from peatio_mgmt.management_api.signing import generate_private_key, keychain_value

    reader = generate_private_key("RS256")
    document["keychain"][READER] = {"algorithm": "RS256", "value": keychain_value(reader)}
    for name, scope in document["scopes"].items():
        if name.startswith("read_"):
            scope["permitted_signers"].append(READER)
            scope["mandatory_signers"] = [READER]
    config_path.write_text(yaml.safe_dump(document))
    reporting = [(READER, reader, "RS256")]
    signers = {"partner": partner, "partner reading": partner + reporting, "reporting": reporting}
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

    topology = Topology(directory, args.web, args.workers, args.beat)
    try:
        from peatio_mgmt.management_api.signing import new_jti, sign

        for port in topology.ports:
            wait_ready(f"http://127.0.0.1:{port}{PREFIX}timestamp",
                       json.dumps(sign({"iat": int(time.time()), "jti": new_jti(), "data": {}}, partner)), deadline=60)
        members_per_client = len(uids) // args.clients
        groups = [uids[i * members_per_client:(i + 1) * members_per_client] for i in range(args.clients)]
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        started = time.monotonic()
        deadline = started + args.duration
        per_process = [groups[i::args.processes] for i in range(args.processes)]
        processes = [context.Process(target=_process, args=(topology.ports, chunk, signers, deadline,
                                                            random.randrange(1 << 30), queue))
                     for chunk in per_process]
        for process in processes:
            process.start()
        if args.kill_after is not None:
            time.sleep(max(0.0, started + args.kill_after - time.monotonic()))
            topology.kill_one()
        results = [client for _ in processes for client in queue.get(timeout=args.duration + 300)]
        elapsed = time.monotonic() - started
        for process in processes:
            process.join()
    finally:
        topology.stop()  # the workers too: the withdraws' states and the accounts are still from here on

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
    print(f"sent again after a broken connection (same tid/key): {sum(r['retried'] for r in results)}; "
          f"answers lost with the killed server, not sent again (PUT, /revenues/new): {sum(r['lost'] for r in results)}")

    # Expected against actual: every client's members, from the answers it got and the states its withdraws
    # ended in (workers move them after the answers).
    expected_balance, expected_locked = defaultdict(Decimal), defaultdict(Decimal)
    sent_withdraws = {}
    for result in results:
        for uid, change in result["balance"].items():
            expected_balance[uid] += Decimal(change)
        sent_withdraws.update(result["withdraws"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT tid, state FROM withdraws WHERE tid = ANY(%s)", [list(sent_withdraws)])
        states = dict(cursor.fetchall())
        cursor.execute("SELECT m.uid, a.balance, a.locked FROM accounts a JOIN members m ON m.id = a.member_id"
                       " WHERE a.currency_id = 'usd'")
        actual = {uid: (balance, locked) for uid, balance, locked in cursor.fetchall()}
    for tid, (uid, amount) in sent_withdraws.items():
        balance, locked = withdraw_effect(states.get(tid), amount)
        expected_balance[uid] += balance
        expected_locked[uid] += locked
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
