"""The system as users run it: real processes on a database of their own, driven over HTTP with signed requests.

`running_system` (one per test session) creates a fresh database on the test PostgreSQL server, migrates it and
loads seeds/demo.yml (plus `xts`, a fiat of 16 decimals) with `manage.py`, writes the development API configuration
(`management_api_devconfig`), then starts exactly what the README and docs/deploy.md start:

- web:    `gunicorn peatio_mgmt.wsgi -c gunicorn.conf.py` — 2 gthread workers with 4 threads each, so requests
          run in threads that are not the main thread (the decimal context of a new thread is Python's default);
- worker: `celery -A peatio_mgmt worker` — the plain command, no -Q;
- beat:   `celery -A peatio_mgmt beat`.

The system pushes its event stream (coin-deposits-ethereum-events.md §16) to one partner, `backend-1.events`, at
`http://127.0.0.1:<System.partner_port>/hook` from event 1 on, signed by `System.events_key` under kid `peatio`;
nothing listens there unless a test starts a receiver (tests/system/test_events.py). Backoff and timeouts are short.

The processes use a redis-server of their own (`System.redis`, stopped and started on the same port by fault
tests). Nothing in the test process talks to the system's database except through `System.sql` (a side
connection) and `manage.py` subprocesses.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from peatio_mgmt.management_api.signing import (
    generate_private_key,
    load_private_key,
    new_jti,
    private_pem,
    sign,
    sign_bytes,
)
from tests.faults.conftest import RedisServer
from tests.support import database_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PREFIX = "/api/v2/management/"
MANDATORY_SIGNER = "backend-1.dev"
# The 20 routes and their verbs (management-api.md §1.1), written out: the tests do not read the server's tables.
ROUTES = ("accounts/balance", "deposits", "deposits/get", "deposits/new", "deposits/state", "withdraws",
          "withdraws/get", "withdraws/new", "withdraws/action", "timestamp", "assets", "assets/new", "expenses",
          "expenses/new", "revenues", "revenues/new", "liabilities", "liabilities/new", "transfers/new", "trades")
VERBS = {"deposits/state": "PUT", "withdraws/action": "PUT"}
LISTS = ("deposits", "withdraws", "assets", "expenses", "revenues", "liabilities", "trades")
# Members of the system's own seed file (the API cannot create members): `System.new_member()` hands them out.
MEMBERS = 400
# A fiat currency of 16 decimals (demo.yml's fiat ones have 2 and 8): full-precision amounts through the fiat
# paths; limits high enough that a 32-digit withdraw is quick.
EXTRA_CURRENCIES = """\
currencies:
  - {id: xts, name: Test fiat of 16 decimals, type: fiat, symbol: T, precision: 16,
     withdraw_limit_24h: "9999999999999999", withdraw_limit_72h: "9999999999999999"}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body, parse_float=Decimal)


@dataclass
class Process:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                          start_new_session=True)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signum)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class System:
    directory: Path
    env: dict[str, str] = field(repr=False)
    port: int
    database_url: str
    keys: dict[str, object] = field(repr=False)
    redis: RedisServer = field(repr=False)
    processes: dict[str, Process] = field(default_factory=dict, repr=False)
    members_given: int = 0
    partner_port: int = 0
    events_key: object = field(default=None, repr=False)

    def new_member(self) -> str:
        """A member no other test has used (seeded active, level 3, no accounts yet)."""
        assert self.members_given < MEMBERS, "raise MEMBERS in tests/system/conftest.py"
        self.members_given += 1
        return member_uid(self.members_given)

    # --- processes -------------------------------------------------------------------------------------------

    def process(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.env, self.directory / f"{name}.log")
        self.processes[name] = process
        process.start()
        return process

    def start_web(self) -> Process:
        web = self.process("web", [str(BIN / "gunicorn"), "peatio_mgmt.wsgi", "-c", "gunicorn.conf.py",
                                   "--bind", f"127.0.0.1:{self.port}", "--pid", str(self.directory / "web.pid")])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz").status == 200:
                    return web
            except OSError:
                pass
            assert web.alive(), web.output()
            time.sleep(0.2)
        raise AssertionError(f"web did not answer /healthz:\n{web.output()}")

    def start_worker(self) -> Process:
        return self.process("worker", [str(BIN / "celery"), "-A", "peatio_mgmt", "worker", "--loglevel", "INFO"])

    def start_beat(self) -> Process:
        return self.process("beat", [str(BIN / "celery"), "-A", "peatio_mgmt", "beat", "--loglevel", "INFO",
                                     "--schedule", str(self.directory / "celerybeat-schedule")])

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.stop()

    def manage(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as side:
            return side.execute(query, params).fetchall()

    # --- HTTP ------------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                timeout: float = 30) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (413) without reading the whole body: its answer is still to be read
            response = conn.getresponse()
            return Answer(response.status, {k: v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def signed_body(self, data: dict, *, signers: tuple[str, ...] = (MANDATORY_SIGNER,), exp: int = 60) -> bytes:
        now = int(time.time())
        payload = {"iat": now, "exp": now + exp, "jti": new_jti(), "data": data}
        return json.dumps(sign(payload, [(kid, self.keys[kid], None) for kid in signers])).encode()

    def signed_claims(self, claims: bytes, *, signers: tuple[str, ...] = (MANDATORY_SIGNER,)) -> bytes:
        """A body signing exactly these bytes as the claims: JSON no encoder writes (NaN, 1e400, "\\ud800")."""
        return json.dumps(sign_bytes(claims, [(kid, self.keys[kid], None) for kid in signers])).encode()

    def send_data_text(self, route: str, data: str | bytes, *, method: str | None = None) -> Answer:
        """The route called with `data` given as raw JSON text, in otherwise valid claims."""
        now = int(time.time())
        data = data.encode() if isinstance(data, str) else data
        claims = b'{"iat":%d,"exp":%d,"jti":"%s","data":%s}' % (now, now + 60, new_jti().encode(), data)
        return self.request(method or VERBS.get(route, "POST"), PREFIX + route, self.signed_claims(claims))

    def call(self, method: str, route: str, data: dict, **signing) -> Answer:
        return self.request(method, PREFIX + route, self.signed_body(data, **signing))

    def post(self, route: str, data: dict, **signing) -> Answer:
        return self.call("POST", route, data, **signing)

    def put(self, route: str, data: dict, **signing) -> Answer:
        return self.call("PUT", route, data, **signing)

    def wait_for(self, predicate, *, timeout: float, what: str, step: float = 0.25):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(step)
        logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in self.processes.values())
        raise AssertionError(f"{what} not reached in {timeout} s\n{logs}")

    def check_ledger(self) -> str:
        result = self.manage("check_ledger")
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


PARTNER = "backend-1.events"


def partner_events_env(directory: Path, system: System) -> dict[str, str]:
    """PARTNER_EVENTS_CONFIG for the one partner, and delivery at the speed of a test."""
    key_file = directory / "events-signing.pem"
    key_file.touch(mode=0o600)
    key_file.write_text(private_pem(system.events_key))
    config = directory / "events.yml"
    config.write_text(
        f"signing: {{kid: peatio, algorithm: RS256, private_key_file: {key_file}, iss: peatio, lifetime: 60}}\n"
        f"partners:\n  {PARTNER}: {{url: 'http://127.0.0.1:{system.partner_port}/hook', start_at: 0}}\n")
    return {"PARTNER_EVENTS_CONFIG": str(config), "EVENTS_SEQUENCE_INTERVAL": "0.5", "EVENTS_DELIVERY_INTERVAL": "0.5",
            "EVENTS_RETRY_BASE_DELAY": "0.1", "EVENTS_RETRY_MAX_DELAY": "1", "EVENTS_MAX_ATTEMPTS": "3",
            "EVENTS_HTTP_TIMEOUT": "1"}


def member_uid(number: int) -> str:
    return f"USYS{number:06d}"


def _admin_connection() -> psycopg.Connection:
    """A connection to the test server's maintenance database, to create and drop the system's database."""
    params = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params)


@pytest.fixture(scope="session")
def running_system(django_db_setup, django_db_blocker, tmp_path_factory):
    """The whole system (web, worker, beat) on a fresh database, started once per test session."""
    directory = tmp_path_factory.mktemp("system")
    name = f"peatio_system_{secrets.token_hex(4)}"
    with django_db_blocker.unblock():
        test_database = database_url()
        with _admin_connection() as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlsplit(test_database)
    system_database = urlunsplit(url._replace(path=f"/{name}"))
    redis_server = RedisServer(directory)
    redis_server.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))},
        "DJANGO_SETTINGS_MODULE": "peatio_mgmt.settings.base",
        "PEATIO_DEV_DEFAULTS": "1",
        "DATABASE_URL": system_database,
        "REDIS_URL": redis_server.url,
        "PYTHONPATH": str(ROOT),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "4",
        "GUNICORN_MAX_REQUESTS": "0",
        # Workers and beat at the speed of a test; the code paths are the production ones.
        "WITHDRAW_AUDIT_INTERVAL": "1",
        "WITHDRAW_CONFIRM_INTERVAL": "1",
        "WITHDRAW_RETRY_INTERVAL": "2",
        "SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND": "6",
        "WITHDRAW_STALE_SEND_AFTER": "5",
        "PEATIO_VAR_DIR": str(directory / "var"),
    }
    env.pop("MANAGEMENT_API_CONFIG", None)
    system = System(directory=directory, env=env, port=free_port(), database_url=system_database, keys={},
                    redis=redis_server, partner_port=free_port(), events_key=generate_private_key("RS256"))
    env.update(partner_events_env(directory, system))
    members = directory / "members.yml"
    members.write_text("members:\n" + "".join(
        f"  - {{uid: {member_uid(n)}, email: m{n}@system.test, level: 3}}\n" for n in range(1, MEMBERS + 1)))
    currencies = directory / "currencies.yml"
    currencies.write_text(EXTRA_CURRENCIES)
    for args in (["migrate", "--no-input", "-v", "0"], ["seed", "seeds/demo.yml", str(currencies), str(members)]):
        result = system.manage(*args, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    config = system.manage("management_api_devconfig", "--dir", str(directory / "management_api"))
    assert config.returncode == 0, config.stderr
    env["MANAGEMENT_API_CONFIG"] = config.stdout.strip()
    system.keys = {kid: load_private_key((directory / "management_api" / f"{kid}.pem").read_bytes())
                   for kid in ("backend-1.dev", "backend-2.dev")}
    try:
        system.start_web()
        system.start_worker()
        system.start_beat()
        yield system
    finally:
        system.stop_all()
        redis_server.stop()
        with django_db_blocker.unblock(), _admin_connection() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def system(running_system):
    """The running system; a test that killed one of its processes gets it back before the next test."""
    yield running_system
    if running_system.redis.process.poll() is not None:
        running_system.redis.start()
    for name, process in running_system.processes.items():
        if not process.alive():
            {"web": running_system.start_web, "worker": running_system.start_worker,
             "beat": running_system.start_beat}[name]()


COIN_CURRENCIES = {"btc", "eth"}


def fund(system: System, uid: str, currency: str, amount: str) -> None:
    """Credit a member: an accepted fiat deposit, or for a coin a transfer from the coin asset account (102) to
    the member's main account (202) — coin deposits are not made through the API."""
    if currency in COIN_CURRENCIES:
        operation = {"currency": currency, "amount": amount, "account_src": {"code": 102},
                     "account_dst": {"code": 202, "uid": uid}}
        answer = system.post("transfers/new", {"key": secrets.randbits(62), "kind": "funding", "operations": [operation]})
    else:
        answer = system.post("deposits/new", {"uid": uid, "currency": currency, "amount": amount, "state": "accepted"})
    assert answer.status == 201, answer.body


def balance(system: System, uid: str, currency: str) -> dict:
    answer = system.post("accounts/balance", {"uid": uid, "currency": currency})
    assert answer.status == 201, answer.body
    return answer.json()
