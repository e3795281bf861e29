"""Faults under traffic, the system as users run it: several clients send mixed requests (coin withdraws, fiat
withdraws processed at once, fiat deposits) while a gunicorn worker is SIGKILLed, the Celery worker is SIGKILLed
(and started again, as its supervisor would) and Redis is restarted empty. Clients retry every request that got no
definite answer with the same tid and parameters (a safe retry: 201 with the same record).

Afterwards: every answer was definite in the end and no retry was refused; every balance equals what the answers
imply; every coin withdraw was sent exactly once (one row per tid in the simulated wallet) and reached `succeed`;
no withdraw is left on its way; the books check passes."""

from __future__ import annotations

import http.client
import random
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import psutil
import pytest

from tests.system.conftest import balance, fund

pytestmark = pytest.mark.system

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
IBAN = "DE89370400440532013000"
CLIENTS = 5
TRAFFIC_SECONDS = 24
D = Decimal


@dataclass
class Client:
    uid: str
    number: int
    answers: list[tuple[str, dict, dict]] = field(default_factory=list)  # (route, request, final body)
    retried: int = 0
    refused: list = field(default_factory=list)


def definite(system, client: Client, route: str, data: dict, deadline: float) -> dict | None:
    """POST until a definite answer (201, or a 4xx other than the gate's 503); the same tid and parameters each
    time. None when the deadline passes first."""
    while time.monotonic() < deadline:
        try:
            answer = system.post(route, data)
        except (OSError, http.client.HTTPException):  # a killed gunicorn worker: connection reset, no answer
            answer = None
        if answer is not None and answer.status == 201:
            return answer.json()
        if answer is not None and answer.status not in (500, 502, 503, 504):
            client.refused.append((route, data, answer.status, answer.body))
            return None
        client.retried += 1
        time.sleep(0.2)
    return None


def traffic(system, client: Client, stop_at: float, errors: list) -> None:
    rng = random.Random(client.number)
    sequence = 0
    try:
        # One fiat withdraw above the 24 h limit first: it must wait for an operator, whatever the faults. Then
        # quick ones only: at most 90 coin (0.001 each) and 90 fiat (10 each) withdraws, within the 24 h limits.
        made = {"coin": 0, "fiat": 0}
        kind = "big-fiat"
        while time.monotonic() < stop_at:
            sequence += 1
            tid = f"F{client.number}-{sequence}"
            if kind == "coin":
                route, data = "withdraws/new", {"uid": client.uid, "currency": "btc", "amount": "0.001",
                                                "rid": BTC_ADDRESS, "tid": tid}
            elif kind in ("fiat", "big-fiat"):
                route, data = "withdraws/new", {"uid": client.uid, "currency": "usd", "rid": IBAN, "tid": tid,
                                                "amount": "1500" if kind == "big-fiat" else "10", "action": "process"}
            else:
                route, data = "deposits/new", {"uid": client.uid, "currency": "usd", "amount": "7", "tid": tid,
                                               "state": "accepted"}
            body = definite(system, client, route, data, deadline=time.monotonic() + 45)
            if body is not None:
                assert body["tid"] == tid, body
                client.answers.append((route, data, body))
            else:
                errors.append(f"{tid}: no definite answer")
            time.sleep(rng.uniform(0.1, 0.3))
            kind = rng.choice([k for k in ("coin", "coin", "fiat", "deposit") if made.get(k, 0) < 90])
            if kind in made:
                made[kind] += 1
    except Exception as error:  # noqa: BLE001 — reported by the test
        errors.append(repr(error))


def kill_one_gunicorn_worker(system) -> int:
    master = psutil.Process(system.processes["web"].popen.pid)
    victim = master.children()[0]
    victim.kill()
    return victim.pid


def test_mixed_traffic_through_killed_workers_and_a_redis_restart_settles_exactly(system):
    started = time.monotonic()
    clients = [Client(uid=system.new_member(), number=n) for n in range(CLIENTS)]
    for client in clients:
        fund(system, client.uid, "usd", "5000")
        fund(system, client.uid, "btc", "1")

    errors: list[str] = []
    stop_at = time.monotonic() + TRAFFIC_SECONDS
    threads = [threading.Thread(target=traffic, args=(system, client, stop_at, errors)) for client in clients]
    for thread in threads:
        thread.start()

    time.sleep(4)
    kill_one_gunicorn_worker(system)  # the master starts another
    time.sleep(4)
    system.processes["worker"].signal(9)  # the whole worker (main process and pool), as the OOM killer would
    system.processes["worker"].popen.wait(10)
    time.sleep(1)
    logged = len(system.processes["worker"].output())  # the log is appended to: the killed worker's lines stay
    system.start_worker()  # what its supervisor (bin/supervise, systemd Restart=always) does
    # On a loaded machine the new worker can take seconds to start: Redis goes only once it holds a connection,
    # so that the outage is one it lives through (and logs) rather than one it starts into.
    system.wait_for(lambda: " ready." in system.processes["worker"].output()[logged:], timeout=60,
                    what="the restarted worker")
    time.sleep(1)
    system.redis.stop()  # no persistence: queues, unacknowledged tasks and the replay cache are lost
    time.sleep(2)
    system.redis.start()
    time.sleep(3)
    kill_one_gunicorn_worker(system)

    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert [c.refused for c in clients] == [[]] * CLIENTS  # no retry answered "Tid has already been taken"
    # The faults were felt (a client whose requests all missed the killed gunicorn worker and the Redis outage
    # retried nothing, so retries are not counted on): the restarted worker lost its broker and reconnected.
    assert "Connection to broker lost" in system.processes["worker"].output()

    coin_tids = [data["tid"] for c in clients for route, data, _ in c.answers
                 if route == "withdraws/new" and data["currency"] == "btc"]
    assert coin_tids

    def settled():
        rows = system.sql("SELECT count(*) FROM withdraws WHERE state IN "
                          "('submitted', 'processing', 'confirming', 'errored', 'skipped')")
        return rows[0][0] == 0

    system.wait_for(settled, timeout=60, what="every withdraw settled")

    states = dict(system.sql("SELECT tid, state FROM withdraws WHERE tid = ANY(%s)", (coin_tids,)))
    assert set(states.values()) == {"succeed"}, states
    sent = system.sql("SELECT reference, count(*) FROM simulated_wallet_sends WHERE currency = 'btc' "
                      "AND reference = ANY(%s) GROUP BY reference", (coin_tids,))
    assert sorted(sent) == sorted((tid, 1) for tid in coin_tids)  # sent once each
    txids = system.sql("SELECT count(*) FROM withdraws WHERE tid = ANY(%s) AND txid IS NOT NULL", (coin_tids,))
    assert txids == [(len(coin_tids),)]

    for client in clients:
        usd_balance, usd_locked, btc_balance = D(5000), D(0), D(1)
        for route, data, body in client.answers:
            amount = D(data["amount"])
            if route == "deposits/new":
                assert body["state"] == "accepted"
                usd_balance += amount
            elif data["currency"] == "btc":
                btc_balance -= amount
            else:
                usd_balance -= amount
                final = system.sql("SELECT state FROM withdraws WHERE tid = %s", (data["tid"],))[0][0]
                assert final == body["state"], (data, body)  # nothing moved it after the answer
                if data["amount"] == "1500":
                    assert body["state"] == "accepted"  # above the limit: waits for an operator
                    usd_locked += amount
                else:
                    assert body["state"] == "succeed"
        usd, btc = balance(system, client.uid, "usd"), balance(system, client.uid, "btc")
        assert (D(usd["balance"]), D(usd["locked"])) == (usd_balance, usd_locked), client.uid
        assert (D(btc["balance"]), D(btc["locked"])) == (btc_balance, 0), client.uid

    system.check_ledger()
    assert time.monotonic() - started < 120
