"""Fault: Redis, the replay store of the API gate (verify_jti on), is stopped and started again while requests
keep coming. While it is down every request is refused with 503 {"error": "Service unavailable."} before anything
is written (fail closed, never a 500); once it is back requests succeed again; the books stay whole.
The Redis is a server of the test's own (the machine's shared one is never touched)."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import Transfer
from peatio_mgmt.management_api import config as api_config
from peatio_mgmt.management_api import replay
from tests.factories import MemberFactory, fund_member
from tests.faults.conftest import assert_books_clean, wait_for
from tests.withdraws.conftest import funds

pytestmark = pytest.mark.django_db(transaction=True)
UNAVAILABLE = {"error": "Service unavailable."}


@pytest.fixture
def replay_store(own_redis, settings, monkeypatch):
    """The gate's replay store on our own Redis."""
    settings.REDIS_URL = own_redis.url
    monkeypatch.setattr(replay, "_client", None)
    yield own_redis
    replay._client = None


def transfer(key: int, src, dst) -> dict:
    return {"key": key, "kind": "member-transfer",
            "operations": [{"currency": "usd", "amount": "1", "account_src": {"code": 201, "uid": src.uid},
                            "account_dst": {"code": 201, "uid": dst.uid}}]}


def test_redis_restarted_during_traffic_fails_closed_then_recovers(api, usd, replay_store):
    assert api_config.current().jwt.verify_jti
    alice, bob = MemberFactory(), MemberFactory()
    fund_member(alice, usd, "1000")
    answers: list[tuple[int, int, dict]] = []  # (key, status, body)
    stop = threading.Event()

    def traffic():
        key = 0
        try:
            while not stop.is_set():
                key += 1
                response = api.post("/transfers/new", transfer(key, alice, bob))
                answers.append((key, response.status_code, response.json()))
                time.sleep(0.01)
        finally:
            connection.close()

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        wait_for(lambda: sum(status == 201 for _, status, _ in answers) >= 5, 20, what="201s before the fault")
        replay_store.stop()
        down_from = len(answers)
        wait_for(lambda: len(answers) >= down_from + 10, 20, what="requests while Redis is down")
        down = answers[down_from + 1:]  # the first may have passed the gate before the stop
        replay_store.start()
        up_from = len(answers)
        wait_for(lambda: sum(status == 201 for _, status, _ in answers[up_from + 1:]) >= 5, 20, what="201s after")
    finally:
        stop.set()
        sender.join(30)

    assert down and all((status, body) == (503, UNAVAILABLE) for _, status, body in down)
    assert {status for _, status, _ in answers} <= {201, 503}  # never a 500
    created = sorted(key for key, status, _ in answers if status == 201)
    assert sorted(Transfer.objects.values_list("key", flat=True)) == created  # nothing half-done, nothing lost
    assert funds(bob, usd) == (Decimal(len(created)), Decimal("0"))
    assert_books_clean()
