"""Fault: the Celery worker is SIGKILLed while the coin withdraw's send is inside the wallet (the node has made
the transaction but not yet answered). The send task is acknowledged late, so the broker redelivers it to the next
worker; the gateway finds the transaction by the withdraw's tid instead of sending again. Paid once, books whole."""

from decimal import Decimal

import pytest

from tests.factories import MemberFactory, fund_member
from tests.faults.conftest import ADDRESS, assert_books_clean, wait_for
from tests.withdraws.conftest import funds
from withdraws import services
from withdraws.models import Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db(transaction=True)


def processing_withdraw(member, currency) -> Withdraw:
    """A coin withdraw moved to processing, which queues its send task on commit."""
    withdraw = services.withdraw_create(uid=member.uid, currency=currency, amount=Decimal("0.05"), rid=ADDRESS,
                                        request_digest="d")
    services.withdraw_accept(withdraw_id=withdraw.pk)
    services.withdraw_process(withdraw_id=withdraw.pk)
    return withdraw


def test_worker_killed_inside_the_send_pays_once_after_redelivery(node, node_btc, workers):
    member = MemberFactory()
    fund_member(member, node_btc, "1")
    node.faults["sendtoaddress"] = "hold"
    first = workers.start()
    withdraw = processing_withdraw(member, node_btc)

    assert node.send_entered.wait(30), first.output()
    first.kill()
    withdraw.refresh_from_db()
    assert withdraw.state == S.PROCESSING and withdraw.txid is None  # the killed transaction left nothing
    assert len(node.sends_of(withdraw.tid)) == 1
    assert_books_clean()

    second = workers.start()
    wait_for(lambda: Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING, 30, what=second.output())

    withdraw.refresh_from_db()
    (sent,) = node.sends_of(withdraw.tid)
    assert node.calls.count("sendtoaddress") == 1  # found by its tid, never sent again
    assert withdraw.txid == sent["txid"] and sent["amount"] == withdraw.amount
    assert funds(member, node_btc) == (Decimal("0.95"), Decimal("0.05"))  # still locked, not yet paid out
    assert_books_clean()

    node.confirmations[sent["txid"]] = 1
    assert services.withdraw_confirm() == 1
    withdraw.refresh_from_db()
    assert withdraw.state == S.SUCCEED
    assert funds(member, node_btc) == (Decimal("0.95"), Decimal("0"))
    assert_books_clean()
