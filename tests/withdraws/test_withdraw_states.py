"""The withdraw state machine (domain.md §6.4): each event's allowed states, funds and postings; the quick rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import Currency
from peatio_mgmt.errors import BusinessRuleError, IllegalTransition
from tests.factories import MemberFactory, WithdrawFactory, fund_member
from tests.withdraws.conftest import funds, in_state, postings
from withdraws import services
from withdraws.models import Withdraw, WithdrawState
from withdraws.selectors import withdraw_is_quick
from withdraws.states import TRANSITIONS, WITHDRAW_MACHINE

pytestmark = pytest.mark.django_db
D = Decimal
LOCKED_STATES = {"submitted", "accepted", "processing", "skipped", "errored", "confirming"}


@pytest.mark.parametrize("event", sorted(TRANSITIONS))
@pytest.mark.parametrize("state", [s.value for s in WithdrawState])
def test_every_withdraw_event_is_allowed_only_from_its_states(usd, member, event, state):
    withdraw = Withdraw(member=member, currency=usd, type="fiat", tid="sm", rid="x", sum=2, fee=1, amount=1, state=state)
    allowed, target = TRANSITIONS[event]
    if state in allowed:
        WITHDRAW_MACHINE.fire(withdraw, event)
        assert withdraw.state == target
        assert (withdraw.completed_at is not None) == (target in ("succeed", "canceled", "rejected", "failed"))
    else:
        with pytest.raises(IllegalTransition, match=f"^Cannot {event} withdraw in state {state}$"):
            WITHDRAW_MACHINE.fire(withdraw, event)
        assert withdraw.state == state and withdraw.completed_at is None


@pytest.fixture
def submitted(usd, member):
    """A submitted usd withdraw of sum 10 (fee 0.1), the member funded with 100."""
    fund_member(member, usd, "100")
    return services.withdraw_create(uid=member.uid, currency=usd, amount=D(10), rid="IBAN", request_digest="d")


UNLOCK = [(211, D(10), 0), (201, 0, D(10))]
LOCK = [(201, D(10), 0), (211, 0, D(10))]


def tail(withdraw):
    return [p[:3] for p in postings(withdraw)[2:]]


@pytest.mark.parametrize("event,state,unlocked", [
    ("cancel", "submitted", True), ("cancel", "accepted", True), ("reject", "submitted", True),
    ("reject", "accepted", True), ("reject", "confirming", True), ("fail", "processing", True),
    ("fail", "confirming", True), ("fail", "errored", True), ("accept", "submitted", False),
    ("process", "accepted", False), ("process", "skipped", False), ("process", "errored", False),
    ("err", "processing", False), ("dispatch", "processing", False),
])
def test_events_move_funds_per_the_table(submitted, usd, member, event, state, unlocked):
    in_state(submitted, state)
    withdraw = getattr(services, f"withdraw_{event}")(withdraw_id=submitted.pk)
    assert withdraw.state == TRANSITIONS[event][1]
    assert tail(withdraw) == (UNLOCK if unlocked else [])
    assert funds(member, usd) == ((D(100), 0) if unlocked else (D(90), D(10)))


def test_illegal_event_changes_nothing(submitted, usd, member):
    with pytest.raises(IllegalTransition, match="Cannot success withdraw in state submitted"):
        services.withdraw_success(withdraw_id=submitted.pk)
    submitted.refresh_from_db()
    assert submitted.state == "submitted" and funds(member, usd) == (D(90), D(10)) and len(postings(submitted)) == 2


def test_submit_locks_the_sum(usd, member):
    fund_member(member, usd, "10")
    withdraw = WithdrawFactory(member=member, currency=usd, type="fiat", tid="p", rid="x", sum=D(10), fee=D("0.1"), amount=D("9.9"))
    services.withdraw_submit(withdraw_id=withdraw.pk)
    assert [p[:3] for p in postings(withdraw)] == LOCK and funds(member, usd) == (0, D(10))


def test_success_subtracts_the_sum_and_books_fee_and_payout(submitted, usd, member):
    in_state(submitted, "confirming")
    services.withdraw_success(withdraw_id=submitted.pk)
    assert [p for p in postings(submitted)[2:]] == [(211, D(10), 0, member.pk), (301, 0, D("0.1"), member.pk),
                                                    (101, D("9.9"), 0, None)]
    assert funds(member, usd) == (D(90), 0)


def test_success_without_fee_writes_no_revenue(usd, member):
    Currency.objects.filter(id="usd").update(withdraw_fee=0)
    fund_member(member, usd, "10")
    usd.refresh_from_db()
    withdraw = services.withdraw_create(uid=member.uid, currency=usd, amount=D(10), rid="x", request_digest="d")
    in_state(withdraw, "errored")
    services.withdraw_success(withdraw_id=withdraw.pk)
    assert tail(withdraw) == [(211, D(10), 0), (101, D(10), 0)]


def test_coin_dispatch_load_and_success_need_a_txid(btc, member):
    fund_member(member, btc, "1")
    withdraw = services.withdraw_create(uid=member.uid, currency=btc, amount=D("0.01"), rid="x", request_digest="d")
    in_state(withdraw, "accepted")
    with pytest.raises(BusinessRuleError, match="Cannot load withdraw without a txid"):
        services.withdraw_load(withdraw_id=withdraw.pk)
    loaded = services.withdraw_load(withdraw_id=withdraw.pk, txid="ab" * 32)
    assert (loaded.state, loaded.txid) == ("confirming", "ab" * 32)


def test_load_is_for_coin_withdraws_only(submitted):
    in_state(submitted, "accepted")
    with pytest.raises(IllegalTransition):
        services.withdraw_load(withdraw_id=submitted.pk, txid="x")


def test_err_records_the_error_and_counts_the_attempt(submitted):
    in_state(submitted, "processing")
    withdraw = services.withdraw_err(withdraw_id=submitted.pk, error={"class": "E", "message": "boom", "at": "now"})
    assert (withdraw.attempts, withdraw.error) == (1, [{"class": "E", "message": "boom", "at": "now"}])


# --- the quick rule (domain.md §6.2) ----------------------------------------------------------------------------


@pytest.fixture
def quick_case(usd):
    """usd limits: 24 h 1000, 72 h 3000. W has sum 100; `other(sum, age, state)` adds an earlier withdraw."""
    member = MemberFactory()
    now = timezone.now()
    w = WithdrawFactory(member=member, currency=usd, type="fiat", tid="W", rid="x", sum=D(100), fee=D("0.1"),
                        amount=D("99.9"), state="processing")

    def other(total, age, state="succeed"):
        o = WithdrawFactory(member=member, currency=usd, type="fiat", tid=f"O{Withdraw.objects.count()}", rid="x",
                            sum=D(total), fee=0, amount=D(total), state=state)
        Withdraw.objects.filter(pk=o.pk).update(created_at=now - age)

    return w, other, now


def test_withdraw_within_both_limits_is_quick_and_never_counts_itself(quick_case):
    w, other, now = quick_case
    other("900", timedelta(hours=24))  # exactly at the 24 h boundary: counted, 1000 <= 1000
    assert withdraw_is_quick(w, now=now)


def test_a_cent_over_the_24h_limit_is_not_quick(quick_case):
    w, other, now = quick_case
    other("900.01", timedelta(hours=24))
    assert not withdraw_is_quick(w, now=now)


def test_just_older_than_24h_counts_only_for_72h(quick_case):
    w, other, now = quick_case
    other("2900", timedelta(hours=24, microseconds=1))
    assert withdraw_is_quick(w, now=now)
    other("0.01", timedelta(hours=72))  # exactly at the 72 h boundary: counted
    assert not withdraw_is_quick(w, now=now)


def test_older_than_72h_and_states_not_under_way_are_not_counted(quick_case):
    w, other, now = quick_case
    other("5000", timedelta(hours=72, microseconds=1))
    for state in ("submitted", "accepted", "canceled", "rejected", "failed", "skipped", "prepared"):
        other("5000", timedelta(hours=1), state=state)
    assert withdraw_is_quick(w, now=now)
    for state in ("processing", "confirming", "errored"):
        other("1", timedelta(hours=1), state=state)
    assert withdraw_is_quick(w, now=now)  # 103 <= 1000
    other("897.01", timedelta(hours=1), state="errored")
    assert not withdraw_is_quick(w, now=now)


def test_a_zero_limit_means_never_quick(quick_case, usd):
    w, _, now = quick_case
    Currency.objects.filter(id="usd").update(withdraw_limit_72h=0)
    w.currency.refresh_from_db()
    assert not withdraw_is_quick(w, now=now)


def test_quick_rule_is_one_query(quick_case, django_assert_num_queries):
    w, other, now = quick_case
    with django_assert_num_queries(1):
        withdraw_is_quick(w, now=now)
