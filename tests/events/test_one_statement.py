"""Creations in one round trip per money event (issue 13): deposit_create and withdraw_create insert the row in one
statement (the member found by uid) and write the rest — the row's final values, the events, the postings — in a
second; what that opens (a refusal after the insert, a generated tid that collides) writes nothing or answers as
before."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from deposits import services as deposits
from deposits.models import Deposit
from events.models import Event
from events.services import OneStatement, event_record, record_post
from ledger.core import Entry, Reference
from ledger.models import Operation
from peatio_mgmt import idempotency
from peatio_mgmt.errors import InsufficientFunds
from tests.events.conftest import sequenced
from tests.factories import fund_member
from tests.withdraws.conftest import funds
from withdraws import services as withdraws
from withdraws.models import Withdraw

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]
IBAN = "DE89370400440532013000"
D = Decimal


def statements(create) -> list[str]:
    """The first word of each statement `create` sends, after a first call (the process's chart cache read)."""
    create(1)
    with CaptureQueriesContext(connection) as captured:
        create(2)
    return [query["sql"].split()[0] for query in captured.captured_queries]


def test_accepted_deposit_is_two_statements_in_its_transaction(member, usd):
    sent = statements(lambda n: deposits.deposit_create(uid=member.uid.lower(), currency=usd, amount=D("10"),
                                                        tid=f"d-{n}", accept=True, request_digest="x"))
    # the insert (the member by uid); the update, the two events and the postings
    assert sent == ["BEGIN", "WITH", "WITH", "COMMIT"]
    deposit = Deposit.objects.get(tid="d-2")
    assert (deposit.state, deposit.member_id) == ("accepted", member.pk) and deposit.completed_at is not None
    assert funds(member, usd) == (D("20"), 0)
    *_, created, updated = sequenced()
    assert created["record"]["uid"] == updated["record"]["uid"] == member.uid  # the stored uid, not the request's
    assert updated["changes"] == {"state": "submitted", "completed_at": None}


def test_quick_fiat_withdraw_with_process_writes_once_after_the_quick_rule(member, usd):
    fund_member(member, usd, "100")
    sent = statements(lambda n: withdraws.withdraw_create(uid=member.uid, currency=usd, amount=D("5"), rid=IBAN,
                                                          process=True, request_digest="x"))
    # insert; the quick rule's account lock and sums; the update, six events and all the postings
    assert sent == ["BEGIN", "WITH", "SELECT", "SELECT", "WITH", "COMMIT"]
    withdraw = Withdraw.objects.latest("id")
    assert withdraw.state == "succeed" and funds(member, usd) == (D("90"), 0)
    assert Operation.objects.filter(reference_type="withdraw", reference_id=withdraw.pk).count() == 5


@pytest.mark.parametrize("process", [False, True])
def test_withdraw_refused_for_funds_after_its_insert_leaves_nothing(member, usd, process):
    fund_member(member, usd, "3")
    before = (Operation.objects.count(), Event.objects.count())
    with pytest.raises(InsufficientFunds) as refused:
        withdraws.withdraw_create(uid=member.uid, currency=usd, amount=D("5"), rid=IBAN, tid="w-1", process=process,
                                  request_digest="x")
    assert refused.value.args == InsufficientFunds(InsufficientFunds.BALANCE).args
    assert not Withdraw.objects.exists() and (Operation.objects.count(), Event.objects.count()) == before
    assert funds(member, usd) == (D("3"), 0)
    fund_member(member, usd, "2")  # the tid was not taken: the same request now passes
    withdraw = withdraws.withdraw_create(uid=member.uid, currency=usd, amount=D("5"), rid=IBAN, tid="w-1",
                                         process=process, request_digest="x")
    assert withdraw.tid == "w-1" and funds(member, usd) == ((D("0"), 0) if process else (D("0"), D("5")))


def test_a_refusal_in_the_combined_statement_rolls_the_transaction_back(member, usd):
    with transaction.atomic():
        deposit = deposits.deposit_create.__wrapped__(uid=member.uid, currency=usd, amount=D("10"),
                                                      request_digest="x")
        entry = Entry(Reference("deposit", deposit.pk)).sub_funds(member, usd, D("1"))  # an account at zero
        with pytest.raises(InsufficientFunds), OneStatement(deposit):
            event_record(deposit)
            record_post(deposit, entry)
        # The statement's event row is in the transaction: nothing more of it may run, nor commit.
        with pytest.raises(TransactionManagementError):
            Deposit.objects.count()
    assert not Deposit.objects.exists() and not Event.objects.exists()


def test_a_generated_tid_that_is_taken_is_drawn_again(member, usd, monkeypatch):
    first = deposits.deposit_create(uid=member.uid, currency=usd, amount=D("10"), request_digest="x")
    drawn = iter([first.tid, "TIDAAAAAAAAAA"])
    monkeypatch.setattr(idempotency, "generate_tid", lambda: next(drawn))
    second = deposits.deposit_create(uid=member.uid, currency=usd, amount=D("10"), request_digest="x")
    assert second.tid == "TIDAAAAAAAAAA" and Deposit.objects.count() == 2
    assert [e["record"]["tid"] for e in sequenced()] == [first.tid, second.tid]
