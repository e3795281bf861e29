"""The outbox (coin-deposits-ethereum-events.md §16.1, Part D §V 1–3, 9, 15): every creation and transition of a
deposit or withdraw writes its event in the transaction of the change; nothing else does."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from deposits import services as deposits
from events.models import Event
from peatio_mgmt.errors import BusinessRuleError
from tests.events.conftest import outbox, sequenced
from tests.factories import fund_member
from tests.sync.conftest import OpenTransaction
from withdraws import services as withdraws

# The sequencer numbers only what other transactions committed: the tests commit (a test's own enclosing
# transaction would hold the bound below its own events).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]
IBAN = "DE89370400440532013000"


def test_accepted_fiat_deposit_writes_created_then_updated_with_consecutive_ids(member, usd):
    deposit = deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("10"), tid="d-1", accept=True,
                                      request_digest="x")
    created, updated = sequenced()
    assert (created["seq"], updated["seq"]) == (1, 2)
    assert created["name"] == "model.deposit.created" and "changes" not in created
    assert created["record"]["state"] == "submitted" and created["record"]["tid"] == deposit.tid
    assert updated["name"] == "model.deposit.updated"
    assert updated["record"]["state"] == "accepted"
    assert updated["changes"] == {"state": "submitted", "completed_at": None}
    assert list(created) == ["seq", "name", "created_at", "record"]


def test_a_failed_request_writes_no_event(member, usd):
    with pytest.raises(BusinessRuleError):
        deposits.deposit_create(uid="U000", currency=usd, amount=Decimal("10"), request_digest="x")
    assert outbox() == []


def test_a_rolled_back_change_leaves_no_event(member, usd):
    deposit = deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("10"), request_digest="x")
    with transaction.atomic(durable=True):
        deposits.deposit_accept.__wrapped__(deposit_id=deposit.pk)
        assert Event.objects.count() == 2
        transaction.set_rollback(True)
    assert [e["name"] for e in sequenced()] == ["model.deposit.created"]


def test_quick_fiat_withdraw_with_process_writes_six_events_in_order(member, usd):
    fund_member(member, usd, "100")
    withdraw = withdraws.withdraw_create(uid=member.uid, currency=usd, amount=Decimal("5"), rid=IBAN, process=True,
                                         request_digest="x")
    events = sequenced()
    assert [(e["seq"], e["name"], e["record"]["state"]) for e in events] == [
        (1, "model.withdraw.created", "prepared"), (2, "model.withdraw.updated", "submitted"),
        (3, "model.withdraw.updated", "accepted"), (4, "model.withdraw.updated", "processing"),
        (5, "model.withdraw.updated", "confirming"), (6, "model.withdraw.updated", "succeed"),
    ]
    # each event's "before" is the previous one's result
    assert [e["changes"] for e in events[1:]] == [{"state": s} for s in
                                                  ("prepared", "submitted", "accepted", "processing", "confirming")]
    assert {e["record"]["tid"] for e in events} == {withdraw.tid}


def test_a_transition_reports_the_fields_changed_since_the_row_was_locked(member, usd):
    """The before of the first event of a transaction is the row as loaded: a txid recorded with the event shows."""
    fund_member(member, usd, "100")
    withdraw = withdraws.withdraw_create(uid=member.uid, currency=usd, amount=Decimal("5"), rid=IBAN,
                                         request_digest="x")
    withdraws.withdraw_cancel(withdraw_id=withdraw.pk)
    cancel = sequenced()[-1]
    assert cancel["changes"] == {"state": "submitted"}
    assert cancel["record"]["state"] == "canceled"


@pytest.mark.parametrize("statement", ["UPDATE events SET body = '{}'", "UPDATE events SET seq = 7",
                                       "DELETE FROM events"])
def test_the_outbox_is_append_only(member, usd, statement):
    deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("10"), request_digest="x")
    sequenced()
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute(statement)


# Part D §V 9: ids in commit order ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_an_open_writer_holds_back_later_events_and_a_rolled_back_one_leaves_no_gap(member, usd, outcome):
    t1 = OpenTransaction(lambda: deposits.deposit_create.__wrapped__(uid=member.uid, currency=usd,
                                                                     amount=Decimal("1"), tid="T1", request_digest="1"))
    deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("2"), tid="T2", request_digest="2")
    assert [e["seq"] for e in sequenced()] == [None]  # T2's event is committed, not yet numbered
    if outcome == "commit":
        t1.commit()
        assert [(e["seq"], e["record"]["tid"]) for e in sequenced()] == [(1, "T1"), (2, "T2")]
    else:
        t1.rollback()
        assert [(e["seq"], e["record"]["tid"]) for e in sequenced()] == [(1, "T2")]
