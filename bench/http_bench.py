"""Requests/s of the management API through gunicorn, against a bare JWT view and a plain Django + PyJWT transfer.

    python bench/http_bench.py [--seconds 10] [--runs 5] [--processes 8]      (bench/http.sh, called by bench/run.sh)

Recreates two databases on the server of PGHOST/PGPORT (peatio_bench_http: migrated, usd, 1000 members funded
through the ledger; peatio_bench_plain_http: the plain peer's balance rows), writes a configuration of two RS256
keys, both mandatory for every scope, verify_jti off (so the bodies of /timestamp and /accounts/balance can be
replayed), and starts three gunicorn servers with the repo's gunicorn.conf.py (2 workers, BENCH_WORKER_CLASS /
BENCH_THREADS, default gthread with 1 thread — measured best, see bench/README.md): peatio_mgmt.wsgi,
bench.bare_wsgi (bench/bare.py) and bench.peers.plain_http.

`wrk` drives each target from `--processes` connections; every request posts the next of a file of pre-signed
bodies (bench/http_bodies.lua). /deposits/new (state accepted) and /transfers/new (2 operations: a member
transfer and its fee to revenue) need a unique tid/key per request, so each run gets bodies signed for it and
never reused (a run that would wrap around fails). Runs are interleaved across targets; the median counts.
Prints `RESULT <name> par <median> <runs...>` lines (requests/s) and `INFO` lines (worker CPU per request).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = {key: os.environ.get(f"PG{key.upper()}", default)
      for key, default in (("host", "127.0.0.1"), ("port", "5432"), ("user", "postgres"))}
DATABASE, PLAIN_DATABASE = os.environ.get("BENCH_HTTP_DATABASE", "peatio_bench_http"), "peatio_bench_plain_http"
os.environ.update(
    # PGHOST a directory: the server's Unix socket (the embedded PostgreSQL of bench/scale.sh)
    DATABASE_URL=(f"postgres://{PG['user']}@/{DATABASE}?host={PG['host']}&port={PG['port']}" if PG["host"].startswith("/")
                  else f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DATABASE}"),
    DJANGO_SETTINGS_MODULE="peatio_mgmt.settings.base", PEATIO_DEV_DEFAULTS="1", DJANGO_DEBUG="0",
)
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from bench.gate import free_port, server_cpu_seconds, wait_ready, write_config  # noqa: E402

LUA = ROOT / "bench" / "http_bodies.lua"
WRK_THREADS = 2
AMOUNT, FEE = "0.01", "0.001"


def fresh_database(name: str) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as connection:
        if os.environ.get("BENCH_KEEP") != "1":
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f"CREATE DATABASE {name}")


def seed(*, plain: bool = True) -> tuple[list[str], list[int]]:
    """The database(s) ready; returns the members' uids and the plain peer's balance ids."""
    fresh_database(DATABASE)
    from bench.ledger_transfers import setup  # migrates, usd, members funded through the ledger core

    uids = [member.uid for member in setup()]
    if not plain:
        return uids, []
    fresh_database(PLAIN_DATABASE)
    env = {**os.environ, "BENCH_PLAIN_DATABASE": PLAIN_DATABASE}
    output = subprocess.run([sys.executable, str(ROOT / "bench/peers/plain_http/seed.py")], env=env, check=True,
                            capture_output=True, text=True).stdout
    return uids, json.loads(output.splitlines()[-1])


# Signing: module globals so that the pool's forked processes inherit the keys.
SIGNERS: list = []


def _sign(payload: dict) -> str:
    from peatio_mgmt.management_api.signing import sign

    return json.dumps(sign(payload, SIGNERS), separators=(",", ":"))


def sign_all(pool, payloads: list[dict]) -> list[str]:
    return pool.map(_sign, payloads, chunksize=256)


def transfer_data(rng: random.Random, key: int, uids: list[str]) -> dict:
    source, destination = rng.sample(uids, 2)
    return {"key": key, "kind": "member-transfer", "operations": [
        {"currency": "usd", "amount": AMOUNT, "account_src": {"code": 201, "uid": source},
         "account_dst": {"code": 201, "uid": destination}},
        {"currency": "usd", "amount": FEE, "account_src": {"code": 201, "uid": source}, "account_dst": {"code": 301}},
    ]}


def deposit_data(rng: random.Random, tid: str, uids: list[str]) -> dict:
    return {"uid": rng.choice(uids), "currency": "usd", "amount": "1.5", "tid": tid, "state": "accepted"}


class Target:
    """One URL and where its bodies come from: fixed (replayable) or a fresh signed slice per run."""

    def __init__(self, name, server, url, *, fixed: list[str] | None = None, make=None, cycle=False):
        self.name, self.server, self.url = name, server, url
        self.fixed, self.make, self.cycle = fixed, make, cycle
        self.runs: list[float] = []
        self.cpu: list[float] = []


def start(app: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2",
           "GUNICORN_WORKER_CLASS": os.environ.get("BENCH_WORKER_CLASS", "gthread"),
           "GUNICORN_THREADS": os.environ.get("BENCH_THREADS", "1"), "GUNICORN_MAX_REQUESTS": "0"}
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), app, "--chdir", str(ROOT)]
    # A session of its own: bench/load.py kills a server with its workers (SIGKILL to the process group).
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"),
                            start_new_session=True)


def run_wrk(url: str, bodies: Path, seconds: float, connections: int, *, cycle: bool) -> tuple[float, int]:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
               "-s", str(LUA), url, "--", str(bodies), str(WRK_THREADS)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"{url}: error responses during the run\n{output}")
    wrapped = int(re.search(r"WRAPPED (\d+)", output).group(1))
    if wrapped and not cycle:
        raise RuntimeError(f"{url}: ran out of pre-signed bodies\n{output}")
    requests = int(re.search(r"([0-9]+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--processes", type=int, default=8, help="concurrent connections")
    parser.add_argument("--modes", default="par", help="accepted for bench/run.sh; HTTP is measured with N clients")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-http-"))
    config_path, signers = write_config(directory)
    os.environ["MANAGEMENT_API_CONFIG"] = str(config_path)
    SIGNERS.extend(signers)
    uids, balance_ids = seed()
    rng = random.Random()
    from django.db import connections

    connections.close_all()  # the signing pool forks: no child may share the parent's database socket
    context = multiprocessing.get_context("fork")
    pool = context.Pool(2)

    iat = int(time.time())

    def payload(data: dict) -> dict:
        return {"iat": iat, "data": data}

    keys, tids = iter(range(secrets.randbits(40), 1 << 62)), (f"TIDB{secrets.token_hex(4)}{i}" for i in range(1 << 40))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_PLAIN_DATABASE": PLAIN_DATABASE}
    ports = {name: free_port() for name in ("gate", "bare", "plain")}
    servers = {"gate": start("peatio_mgmt.wsgi:application", ports["gate"], env, directory / "gate.log"),
               "bare": start("bench.bare_wsgi:application", ports["bare"], env, directory / "bare.log"),
               "plain": start("bench.peers.plain_http.wsgi:application", ports["plain"], env, directory / "plain.log")}
    gate = f"http://127.0.0.1:{ports['gate']}/api/v2/management/"
    timestamp_body = _sign(payload({}))
    plain_bodies = sign_all(pool, [payload({"from": a, "to": b, "amount": AMOUNT})
                                   for a, b in (rng.sample(balance_ids, 2) for _ in range(2000))])
    targets = [
        Target("plain_http_timestamp", servers["bare"], f"http://127.0.0.1:{ports['bare']}/bare", fixed=[timestamp_body]),
        Target("http_timestamp", servers["gate"], gate + "timestamp", fixed=[timestamp_body]),
        Target("http_balance", servers["gate"], gate + "accounts/balance",
               fixed=sign_all(pool, [payload({"uid": uid, "currency": "usd"}) for uid in uids[:100]])),
        Target("http_deposit", servers["gate"], gate + "deposits/new",
               make=lambda: payload(deposit_data(rng, next(tids), uids))),
        Target("http_transfer", servers["gate"], gate + "transfers/new",
               make=lambda: payload(transfer_data(rng, next(keys), uids))),
        Target("plain_http_transfer", servers["plain"], f"http://127.0.0.1:{ports['plain']}/transfer",
               fixed=plain_bodies, cycle=True),
    ]
    try:
        wait_ready(gate + "timestamp", timestamp_body, deadline=60)
        wait_ready(targets[0].url, timestamp_body, deadline=60)
        wait_ready(targets[-1].url, plain_bodies[0], deadline=60)
        # Bodies a run may need: the best rate seen so far with a margin (the warm-up's first guess is generous).
        expected = {target.name: 1500.0 for target in targets}

        def bodies_for(target: Target, seconds: float) -> Path:
            path = directory / f"{target.name}.bodies"
            if target.fixed is not None:
                lines = target.fixed
            else:
                count = math.ceil(expected[target.name] * 1.5 * seconds) + 200 * args.processes
                lines = sign_all(pool, [target.make() for _ in range(count)])
            path.write_text("\n".join(lines) + "\n")
            return path

        for target in targets:  # warm-up: connections, imports, per-process caches
            rate, _ = run_wrk(target.url, bodies_for(target, 1), 1, args.processes, cycle=target.cycle or target.fixed is not None)
            expected[target.name] = max(rate, 300.0)
        for _ in range(args.runs):
            for target in targets:
                path = bodies_for(target, args.seconds)
                before = server_cpu_seconds(target.server)
                rate, requests = run_wrk(target.url, path, args.seconds, args.processes,
                                                  cycle=target.cycle or target.fixed is not None)
                target.runs.append(rate)
                target.cpu.append((server_cpu_seconds(target.server) - before) / requests * 1e6)
                expected[target.name] = max(expected[target.name], rate)
        for target in targets:
            print(f"RESULT {target.name} par {statistics.median(target.runs):.1f} "
                  + " ".join(f"{r:.1f}" for r in target.runs), flush=True)
            print("INFO " + json.dumps({"name": target.name, "cpu_us_per_request": round(statistics.median(target.cpu))}),
                  flush=True)
    finally:
        pool.close()
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
