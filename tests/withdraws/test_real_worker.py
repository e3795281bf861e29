"""A real Celery worker and beat against the real Redis walk a quick coin withdraw on the simulated gateway:
submitted -> accepted -> processing -> confirming -> succeed, with the default intervals (audit 5 s, confirm 5 s,
6 confirmations at 1 per second). The test measures and prints the end-to-end time (domain.md §7.5: about 15 s).
"""

import time
from decimal import Decimal

import pytest
from celery.beat import EmbeddedService, Scheduler
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connection

from peatio_mgmt.celery import all_queues, app
from tests.factories import CoinFactory, MemberFactory, fund_member
from tests.withdraws.conftest import funds
from withdraws.models import Withdraw

ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def close_connection(**kwargs):
    connection.close()  # the worker thread's connection, so nothing keeps the test database open


@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_pay_a_quick_coin_withdraw(api, settings, capsys):
    assert (settings.WITHDRAW_AUDIT_INTERVAL, settings.WITHDRAW_CONFIRM_INTERVAL) == (5, 5)
    assert settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND == 1
    btc = CoinFactory()
    member = MemberFactory()
    fund_member(member, btc, "1")
    app.control.purge()
    task_postrun.connect(close_connection, weak=False)
    beat = EmbeddedService(app, thread=True, scheduler_cls=Scheduler)
    try:
        with start_worker(app, queues=all_queues(), perform_ping_check=False, shutdown_timeout=30):
            beat.start()
            started = time.monotonic()
            response = api.post("/withdraws/new", {"uid": member.uid, "currency": "btc", "amount": "0.05", "rid": ADDRESS})
            assert response.status_code == 201
            withdraw = Withdraw.objects.get(tid=response.json()["tid"])
            seen = {"submitted": 0.0}
            while time.monotonic() - started < 60 and withdraw.state != "succeed":
                time.sleep(0.05)
                withdraw.refresh_from_db()
                seen.setdefault(withdraw.state, round(time.monotonic() - started, 2))
            elapsed = time.monotonic() - started
    finally:
        beat.stop()
        task_postrun.disconnect(close_connection)
    with capsys.disabled():
        print(f"\nquick coin withdraw end to end: {elapsed:.1f} s; states first seen at (s): {seen}")
    assert withdraw.state == "succeed" and withdraw.confirmations >= 6
    # The states seen by polling follow the legal path (a short-lived one may pass between two polls).
    path = ["submitted", "accepted", "processing", "confirming", "succeed"]
    assert list(seen) == [state for state in path if state in seen] and list(seen)[-1] == "succeed"
    assert elapsed < 30
    assert funds(member, btc) == (Decimal("0.95"), 0)


def test_every_routed_queue_is_declared_so_the_plain_worker_consumes_it():
    routed = {route["queue"] for route in app.conf.task_routes.values()}

    assert routed | {app.conf.task_default_queue} <= set(all_queues())
    # What `celery -A peatio_mgmt worker` without -Q subscribes to: every declared queue.
    assert set(app.amqp.queues.consume_from) == set(all_queues())
