"""Fault: the PostgreSQL backend serving a request or a task is terminated (pg_terminate_backend from another
session) while it is inside its transaction. Made deterministic by a lock: another session holds the row the code
needs, so the request or task waits on it, and its backend is the one blocked by that session (or, for a send
held inside the wallet node, the one holding the withdraw row). The request answers 500 and writes nothing; the
next request on the same thread reconnects and succeeds; the task runs again and the withdraw ends in a legal
state; the books stay whole."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import Account, Operation, Transfer
from tests.factories import MemberFactory, fund_member
from tests.faults.conftest import ADDRESS, assert_books_clean, backends_waiting_on, terminate, wait_for
from tests.withdraws.conftest import funds
from withdraws import services, tasks
from withdraws.models import Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def lock_account(side, member, currency_id: str) -> None:
    """Row-lock the member's account in the side session's open transaction."""
    side.execute("SELECT 1 FROM accounts WHERE member_id = %s AND currency_id = %s FOR UPDATE", (member.pk, currency_id))


def blocked_backend(side) -> int:
    (pid,) = wait_for(lambda: backends_waiting_on(side, side.info.backend_pid), 30, what="a backend waiting on the lock")
    return pid


def member_transfer(key: int, src, dst, amount: str) -> dict:
    return {"key": key, "kind": "member-transfer",
            "operations": [{"currency": "usd", "amount": amount, "account_src": {"code": 201, "uid": src.uid},
                            "account_dst": {"code": 201, "uid": dst.uid}}]}


def test_request_whose_backend_is_terminated_answers_500_writes_nothing_and_the_next_one_works(api, usd, side_connection):
    alice, bob = MemberFactory(), MemberFactory()
    fund_member(alice, usd, "100")
    one_thread = ThreadPoolExecutor(max_workers=1)  # both requests on one thread: the same Django connection

    def post(data):
        return api.post("/transfers/new", data)

    try:
        with side_connection.transaction():
            lock_account(side_connection, alice, "usd")
            pending = one_thread.submit(post, member_transfer(7001, alice, bob, "25"))
            terminate(side_connection, blocked_backend(side_connection))  # inside the transfer's transaction
            response = pending.result(30)

        assert response.status_code == 500
        assert response.json() == {"error": "Internal server error."}
        assert not Transfer.objects.filter(key=7001).exists()  # inserted before the wait, rolled back with it
        assert Operation.objects.filter(reference_type="transfer").count() == 0
        assert funds(alice, usd) == (D("100"), D("0"))
        assert_books_clean()

        response = one_thread.submit(post, member_transfer(7001, alice, bob, "25")).result(30)
        assert response.status_code == 201
        assert funds(alice, usd) == (D("75"), D("0")) and funds(bob, usd) == (D("25"), D("0"))
        assert_books_clean()
    finally:
        one_thread.submit(lambda: connection.close()).result(10)
        one_thread.shutdown()


@pytest.fixture
def alice(node_btc):
    member = MemberFactory()
    fund_member(member, node_btc, "1")
    return member


def processing(member, currency) -> Withdraw:
    withdraw = services.withdraw_create(uid=member.uid, currency=currency, amount=D("0.05"), rid=ADDRESS,
                                        request_digest="d")
    services.withdraw_accept(withdraw_id=withdraw.pk)
    Withdraw.objects.filter(pk=withdraw.pk).update(state=S.PROCESSING)  # process, without queueing the task
    return withdraw


def test_send_task_whose_backend_is_terminated_after_the_node_paid_is_retried_and_pays_once(
        node, node_btc, alice, workers, side_connection):
    node.faults["sendtoaddress"] = "hold"
    worker = workers.start()
    withdraw = processing(alice, node_btc)
    tasks.send_withdraw.delay(withdraw.pk)
    assert node.send_entered.wait(30), worker.output()

    (holder,) = side_connection.execute(
        "SELECT pid FROM pg_locks WHERE relation = 'withdraws'::regclass AND granted AND pid <> pg_backend_pid()"
    ).fetchone()
    terminate(side_connection, holder)  # the worker's transaction, holding the withdraw row, is gone
    node.release.set()  # the node answers the txid to a worker that can no longer store it

    wait_for(lambda: Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING, 30, what=worker.output())
    withdraw.refresh_from_db()
    (sent,) = node.sends_of(withdraw.tid)
    assert withdraw.txid == sent["txid"] and node.calls.count("sendtoaddress") == 1
    assert funds(alice, node_btc) == (D("0.95"), D("0.05"))
    assert_books_clean()


def test_confirm_task_whose_backend_is_terminated_posts_nothing_and_the_next_run_pays_out(
        node, node_btc, alice, workers, side_connection):
    withdraw = processing(alice, node_btc)
    services.withdraw_send(withdraw_id=withdraw.pk)
    withdraw.refresh_from_db()
    assert withdraw.state == S.CONFIRMING
    node.confirmations[withdraw.txid] = 1
    worker = workers.start()

    with side_connection.transaction():
        lock_account(side_connection, alice, "btc")
        tasks.confirm_withdraws.delay()
        terminate(side_connection, blocked_backend(side_connection))  # inside success, before its postings

    withdraw.refresh_from_db()
    assert withdraw.state == S.CONFIRMING
    assert funds(alice, node_btc) == (D("0.95"), D("0.05"))
    assert_books_clean()

    tasks.confirm_withdraws.delay()  # beat's next round
    wait_for(lambda: Withdraw.objects.get(pk=withdraw.pk).state == S.SUCCEED, 30, what=worker.output())
    assert funds(alice, node_btc) == (D("0.95"), D("0"))
    assert Account.objects.get(member=alice, currency=node_btc).locked == 0
    assert_books_clean()
