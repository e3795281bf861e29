"""Fault: the broker (a Redis of the test's own, no persistence) is restarted under load under a worker started as
deployed (prefork pool, gossip, mingle, heartbeat). The worker reconnects, stays up and goes on walking withdraws;
the simulated gateway's sends are in PostgreSQL, so nothing sent is forgotten."""

from decimal import Decimal

import pytest

from peatio_mgmt.celery import app
from tests.factories import CoinFactory, MemberFactory, fund_member
from tests.faults.conftest import ADDRESS, assert_books_clean, wait_for
from tests.withdraws.conftest import sends, simulated_wallet  # noqa: F401  (the fixture)
from withdraws import services, tasks
from withdraws.models import Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_settings_ride_out_a_broker_outage():
    assert app.conf.broker_connection_retry and app.conf.broker_connection_retry_on_startup
    assert app.conf.broker_connection_max_retries is None  # never gives up and exits
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss  # no ack on a dead channel


def test_the_plain_worker_survives_a_redis_restart_and_goes_on_sending(own_redis, workers, simulated_wallet):
    btc = CoinFactory()
    member = MemberFactory()
    fund_member(member, btc, "1")
    worker = workers.start(redis_url=own_redis.url, plain=True)

    def walked(tid: str) -> bool:
        """Audit once more through our broker; True once the withdraw was sent (confirming)."""
        with app.connection_for_write(own_redis.url) as conn:
            tasks.audit_withdraws.apply_async(connection=conn)
        return Withdraw.objects.get(tid=tid).state == S.CONFIRMING

    def create(tid: str) -> None:
        services.withdraw_create(uid=member.uid, currency=btc, amount=Decimal("0.01"), rid=ADDRESS, tid=tid,
                                 request_digest=tid)

    create("before")
    wait_for(lambda: walked("before"), 60, step=1, what=f"sent before the restart\n{worker.output()[-3000:]}")

    # Under load, so that the worker holds unacknowledged messages when the broker goes: the path that stopped
    # the worker for good on celery 5.7.0 (pyproject.toml).
    with app.connection_for_write(own_redis.url) as conn:
        for _ in range(1000):
            tasks.audit_withdraws.apply_async(connection=conn)
    received = worker.output().count("received")
    wait_for(lambda: worker.output().count("received") >= received + 3, 20, what="the burst being consumed")
    own_redis.stop()
    wait_for(lambda: "Connection to broker lost" in worker.output(), 20, what="the worker noticing")
    # It did hold unacknowledged messages (the channel restores them as it closes, which may be logged a moment later).
    wait_for(lambda: "Restoring" in worker.output(), 60, what="unacknowledged messages being restored")
    own_redis.start()

    create("after")
    wait_for(lambda: walked("after"), 60, step=1, what=f"sent after the restart\n{worker.output()[-3000:]}")
    assert worker.process.poll() is None, worker.output()[-3000:]
    assert "Unrecoverable error" not in worker.output()
    assert [reference for reference, _ in sends(simulated_wallet, "btc")] == ["before", "after"]
    assert_books_clean()
