"""Throughput of the management API gate against a bare Django view that only verifies the same signatures.

    DATABASE_URL=... REDIS_URL=... python bench/gate.py [--duration 10] [--connections 8] [--before CHECKOUT]
        [--before-env NAME=VALUE ...] [--worker-class gthread --threads 2]

Starts two gunicorn servers (2 sync workers each, loopback, free ports): peatio_mgmt.wsgi with a generated
configuration of two RS256 keys (both mandatory, verify_jti off so a fixed pre-signed body can be replayed), and
bench.bare_wsgi. Then drives each with `wrk` (8 connections posting a fixed signed body) and prints requests/s (best of interleaved rounds) of
POST /timestamp, POST /accounts/balance and the bare view, and the ratio timestamp / bare (target >= 0.85).
The database named by DATABASE_URL is migrated and gets one member and the usd currency.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import Request, urlopen

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")

KIDS = ("bench-1", "bench-2")
MEMBER_UID = "UBENCH00001"
LIST_ROWS = 1000
BODIES_LUA = ROOT / "bench" / "http_bodies.lua"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path) -> tuple[Path, list]:
    from peatio_mgmt.management_api.config import SCOPES
    from peatio_mgmt.management_api.signing import generate_private_key, keychain_value

    keys = [generate_private_key("RS256") for _ in KIDS]
    document = {
        "keychain": {kid: {"algorithm": "RS256", "value": keychain_value(key)} for kid, key in zip(KIDS, keys, strict=True)},
        "jwt": {"verify_iat": True, "leeway": 30},
        "scopes": {scope: {"permitted_signers": list(KIDS), "mandatory_signers": list(KIDS)} for scope in SCOPES},
    }
    path = directory / "management_api.yml"
    path.write_text(yaml.safe_dump(document))
    return path, [(kid, key, "RS256") for kid, key in zip(KIDS, keys, strict=True)]


def prepare_database() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from ledger.models import Member
    from tests.factories import CurrencyFactory, fund_member

    usd = CurrencyFactory()
    member, created = Member.objects.get_or_create(uid=MEMBER_UID, defaults={"email": "bench@example.com", "level": 3})
    if created:
        fund_member(member, usd, "1000.85")
        for _ in range(LIST_ROWS - 1):  # the member's /liabilities list: a full page of LIST_ROWS postings
            fund_member(member, usd, "0.01")


def start(app: str, port: int, env: dict, log: Path, checkout: Path = ROOT, worker: tuple[str, int] = ("sync", 1)
          ) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", app, "--workers", "2", "--worker-class", worker[0],
               "--threads", str(worker[1]), "--bind", f"127.0.0.1:{port}", "--chdir", str(checkout)]
    # gunicorn also reads the checkout's gunicorn.conf.py: no worker recycling during a measurement (a new worker
    # would restart the CPU counters read below). PYTHONPATH first: the checkout's code, not the installed one.
    env = {**env, "GUNICORN_MAX_REQUESTS": "0", "PYTHONPATH": str(checkout)}
    return subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def wait_ready(url: str, body: str, deadline: float = 30) -> None:
    started = time.monotonic()
    while True:
        try:
            request = Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
            with urlopen(request, timeout=5) as response:
                if response.status == 201:
                    return
        except OSError as error:
            if time.monotonic() - started > deadline:
                raise RuntimeError(f"{url} not ready: {error}") from error
            time.sleep(0.2)


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """CPU time (user + system) used so far by the gunicorn master's workers."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    ticks = 0
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, bodies: Path, duration: int, connections: int) -> tuple[float, int]:
    """wrk posting the lines of `bodies` (bench/http_bodies.lua): one replayed body, or unique ones."""
    output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(BODIES_LUA), url, "--",
                             str(bodies), "2"], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{url}: error responses during the run\n{output}")
    requests = int(re.search(r"([0-9]+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)), requests


def write_bodies(path: Path, bodies: list[str]) -> Path:
    path.write_text("".join(body + "\n" for body in bodies))
    return path


def transfer_bodies(signers: list, keys: range) -> list[str]:
    """POST /transfers/new bodies with unique keys: 0.01 usd from the member to the revenue account 301."""
    from peatio_mgmt.management_api.signing import sign

    now = int(time.time())
    operation = {"currency": "usd", "amount": "0.01", "account_src": {"code": 201, "uid": MEMBER_UID},
                 "account_dst": {"code": 301}}
    return [json.dumps(sign({"iat": now, "exp": now + 3600, "data": {"key": key, "kind": "bench", "operations": [operation]}},
                            signers)) for key in keys]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per target; the best one counts")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--before", type=Path, help="a second checkout (e.g. a git worktree of an older commit) "
                        "served beside this one, its figures printed side by side")
    parser.add_argument("--before-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment of the `before` side; without --before, that side is this checkout "
                        "with these settings (e.g. DATABASE_POOL=0 against the default pool)")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class of every server")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--transfers", type=int, default=4000, help="unique /transfers/new bodies per server (split among the rounds)")
    parser.add_argument("--routes", default="timestamp,accounts/balance,liabilities,transfers/new",
                        help="the API routes measured beside the bare view (timestamp always)")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    config_path, signers = write_config(directory)
    os.environ["MANAGEMENT_API_CONFIG"] = str(config_path)
    prepare_database()

    from peatio_mgmt.management_api.signing import sign

    now = int(time.time())
    fixed = {
        "timestamp": sign({"iat": now, "data": {}}, signers),
        "accounts/balance": sign({"iat": now, "data": {"uid": MEMBER_UID, "currency": "usd"}}, signers),
        "liabilities": sign({"iat": now, "data": {"uid": MEMBER_UID, "limit": LIST_ROWS}}, signers),
    }
    files = {path: write_bodies(directory / f"{path.replace('/', '_')}.txt", [json.dumps(body)])
             for path, body in fixed.items()}
    checkouts = {"after": ROOT}
    if args.before or args.before_env:
        checkouts["before"] = args.before.resolve() if args.before else ROOT
    key_base = time.time_ns() // 1000  # unique transfer keys across runs of the bench on the same database
    per_run = args.transfers // args.rounds
    for index, (side, round_) in enumerate((side, round_) for side in checkouts for round_ in range(args.rounds)):
        keys = range(key_base + index * per_run, key_base + (index + 1) * per_run)
        files[f"transfers/new {side} {round_}"] = write_bodies(directory / f"transfers_{side}_{round_}.txt",
                                                              transfer_bodies(signers, keys))

    env = dict(os.environ)
    servers, urls = {}, {}
    worker = (args.worker_class, args.threads)
    for side, checkout in checkouts.items():
        port = free_port()
        side_env = env | (dict(pair.split("=", 1) for pair in args.before_env) if side == "before" else {})
        servers[side] = start("peatio_mgmt.wsgi:application", port, side_env, directory / f"{side}.log", checkout,
                              worker)
        urls[side] = f"http://127.0.0.1:{port}/api/v2/management/"
    bare_port = free_port()
    servers["bare"] = start("bench.bare_wsgi:application", bare_port, env, directory / "bare.log", worker=worker)
    bare_url = f"http://127.0.0.1:{bare_port}/bare"
    try:
        for side in checkouts:
            wait_ready(urls[side] + "timestamp", json.dumps(fixed["timestamp"]))
        wait_ready(bare_url, json.dumps(fixed["timestamp"]))
        # (row, side, url, bodies file, server); transfers last in a round: their bodies are used up, not replayed.
        targets = [("bare view", "bare", bare_url, files["timestamp"], servers["bare"])]
        routes = ["timestamp", *(r for r in args.routes.split(",") if r not in ("timestamp", "transfers/new"))]
        for path in routes:
            targets += [(f"POST /{path}", side, urls[side] + path, files[path], servers[side]) for side in checkouts]
        transfers = [[("POST /transfers/new", side, urls[side] + "transfers/new", files[f"transfers/new {side} {round_}"],
                       servers[side]) for side in checkouts if "transfers/new" in args.routes.split(",")]
                     for round_ in range(args.rounds)]
        for _, _, url, bodies, _ in targets:
            run_wrk(url, bodies, 1, args.connections)  # warm-up: connections, imports, caches
        # Interleaved rounds, best run per target: on a shared machine a neighbour's burst hits one run, not all.
        # The workers' CPU time per request is measured too: it does not depend on what the neighbours do.
        runs, cpu = {}, {}
        for round_ in range(args.rounds):
            for name, side, url, bodies, server in targets + transfers[round_]:
                before = server_cpu_seconds(server)
                rate, requests = run_wrk(url, bodies, args.duration, args.connections)
                if name == "POST /transfers/new" and requests > per_run:
                    raise RuntimeError(f"{side}: {requests} transfers sent, only {per_run} unique bodies")
                runs.setdefault((name, side), []).append(rate)
                cpu.setdefault((name, side), []).append((server_cpu_seconds(server) - before) / requests * 1e6)
        rates = {key: max(values) for key, values in runs.items()}
        cpu_per_request = {key: min(values) for key, values in cpu.items()}
        print(f"{'target':26} {'side':7} {'requests/s':>11} {'us CPU/request':>15}   runs (requests/s; us CPU/request)")
        for (name, side), rate in rates.items():
            print(f"{name:26} {side:7} {rate:11.1f} {cpu_per_request[(name, side)]:15.0f}   "
                  f"{', '.join(f'{r:.0f}' for r in runs[(name, side)])}; "
                  f"{', '.join(f'{c:.0f}' for c in cpu[(name, side)])}")
        if "before" in checkouts:
            print(f"\n{'worker CPU per request':26} {'before':>8} {'after':>8} {'after/before':>13}")
            for name in dict.fromkeys(name for name, side in cpu_per_request if side == "after"):
                before, after = cpu_per_request[(name, "before")], cpu_per_request[(name, "after")]
                print(f"{name:26} {before:8.0f} {after:8.0f} {after / before:13.1%}")
        for side in checkouts:
            ratio = rates[("POST /timestamp", side)] / rates[("bare view", "bare")]
            cpu_ratio = cpu_per_request[("bare view", "bare")] / cpu_per_request[("POST /timestamp", side)]
            # Each round's bare and /timestamp runs are seconds apart: their ratio is paired against the neighbours' load.
            paired = statistics.median(bare / own for bare, own in zip(cpu[("bare view", "bare")],
                                                                       cpu[("POST /timestamp", side)], strict=True))
            print(f"RATIO timestamp_vs_bare_jwt_view {side}: {ratio:.2f} by requests/s, {cpu_ratio:.2f} by worker CPU"
                  f" (median of the rounds' paired ratios: {paired:.2f})")
    finally:
        for server in servers.values():
            server.terminate()
        for server in servers.values():
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
