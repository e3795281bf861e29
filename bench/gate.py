"""Throughput of the management API gate against a bare Django view that only verifies the same signatures.

    DATABASE_URL=... REDIS_URL=... python bench/gate.py [--duration 10] [--connections 8]

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import Request, urlopen

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings")
os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")

KIDS = ("bench-1", "bench-2")
MEMBER_UID = "UBENCH00001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(directory: Path) -> tuple[Path, list]:
    from peatio_mgmt.management_api.config import SCOPES
    from peatio_mgmt.management_api.signing import generate_private_key, keychain_value

    keys = [generate_private_key("RS256") for _ in KIDS]
    document = {
        "keychain": {kid: {"algorithm": "RS256", "value": keychain_value(key)} for kid, key in zip(KIDS, keys)},
        "jwt": {"verify_iat": True, "leeway": 30},
        "scopes": {scope: {"permitted_signers": list(KIDS), "mandatory_signers": list(KIDS)} for scope in SCOPES},
    }
    path = directory / "management_api.yml"
    path.write_text(yaml.safe_dump(document))
    return path, [(kid, key, "RS256") for kid, key in zip(KIDS, keys)]


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


def start(app: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", app, "--workers", "2", "--worker-class", "sync",
               "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    # gunicorn also reads the repo's gunicorn.conf.py from ROOT: no worker recycling during a measurement (a new
    # worker would restart the CPU counters read below).
    env = {**env, "GUNICORN_MAX_REQUESTS": "0"}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


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


def run_wrk(url: str, body: str, duration: int, connections: int, directory: Path) -> tuple[float, int]:
    script = directory / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    output = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
                            capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{url}: error responses during the run\n{output}")
    requests = int(re.search(r"([0-9]+) requests in", output).group(1))
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs per target; the best one counts")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-gate-"))
    config_path, signers = write_config(directory)
    os.environ["MANAGEMENT_API_CONFIG"] = str(config_path)
    prepare_database()

    from peatio_mgmt.management_api.signing import sign

    now = int(time.time())
    timestamp_body = json.dumps(sign({"iat": now, "data": {}}, signers))
    balance_body = json.dumps(sign({"iat": now, "data": {"uid": MEMBER_UID, "currency": "usd"}}, signers))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gate_port, bare_port = free_port(), free_port()
    servers = [start("peatio_mgmt.wsgi:application", gate_port, env, directory / "gate.log"),
               start("bench.bare_wsgi:application", bare_port, env, directory / "bare.log")]
    try:
        gate_url = f"http://127.0.0.1:{gate_port}/api/v2/management/"
        bare_url = f"http://127.0.0.1:{bare_port}/bare"
        wait_ready(gate_url + "timestamp", timestamp_body)
        wait_ready(gate_url + "accounts/balance", balance_body)
        wait_ready(bare_url, timestamp_body)
        gate_server, bare_server = servers
        targets = [("bare view", bare_url, timestamp_body, bare_server),
                   ("POST /timestamp", gate_url + "timestamp", timestamp_body, gate_server),
                   ("POST /accounts/balance", gate_url + "accounts/balance", balance_body, gate_server)]
        for name, url, body, _ in targets:
            run_wrk(url, body, 2, args.connections, directory)  # warm-up: connections, imports, caches
        # Interleaved rounds, best run per target: on a shared machine a neighbour's burst hits one run, not all.
        # The workers' CPU time per request is measured too: it does not depend on what the neighbours do.
        runs = {name: [] for name, *_ in targets}
        cpu = {name: [] for name, *_ in targets}
        for _ in range(args.rounds):
            for name, url, body, server in targets:
                before = server_cpu_seconds(server)
                rate, requests = run_wrk(url, body, args.duration, args.connections, directory)
                runs[name].append(rate)
                cpu[name].append((server_cpu_seconds(server) - before) / requests * 1e6)
        rates = {name: max(values) for name, values in runs.items()}
        cpu_per_request = {name: min(values) for name, values in cpu.items()}
        for name, rate in rates.items():
            print(f"{name:24} {rate:10.1f} requests/s   {cpu_per_request[name]:7.0f} us CPU/request   "
                  f"(runs: {', '.join(f'{r:.0f}' for r in runs[name])})")
        ratio = rates["POST /timestamp"] / rates["bare view"]
        cpu_ratio = cpu_per_request["bare view"] / cpu_per_request["POST /timestamp"]
        print(f"{'timestamp / bare':24} {ratio:10.1%} by requests/s, {cpu_ratio:.1%} by worker CPU per request "
              "(target >= 85%)")
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
