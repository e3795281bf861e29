"""The four deposit routes (management-api.md §4.2–4.5) and the deposit state machine (domain.md §5)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from deposits import services
from deposits.models import Deposit, DepositState
from deposits.states import DEPOSIT_MACHINE, TRANSITIONS
from ledger.models import Account, Operation
from peatio_mgmt.errors import IllegalTransition
from peatio_mgmt.idempotency import request_digest
from tests.factories import CurrencyFactory, DepositFactory, MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def eur(db):
    return CurrencyFactory(id="eur", name="Euro", symbol="€", deposit_fee=Decimal("1.5"), min_deposit_amount=Decimal("10"))


def balance(member, currency):
    account = Account.objects.filter(member=member, currency=currency).first()
    return (account.balance, account.locked) if account else (Decimal(0), Decimal(0))


def postings(deposit):
    return sorted(
        (o.code_id, o.debit, o.credit, o.member_id)
        for o in Operation.objects.filter(reference_type="deposit", reference_id=deposit.pk)
    )


def coin_deposit(member, btc, tid="TIDCOIN00001", **kwargs):
    return DepositFactory(member=member, currency=btc, type="coin", tid=tid, amount=Decimal("0.25"),
                          txid="9f" * 32, txout=0, confirmations=6, **kwargs)


# --- /deposits/new ------------------------------------------------------------------------------------------------


def test_deposit_new_records_a_submitted_fiat_deposit(api, usd, member):
    response = api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "750.77", "tid": "bank-1"})
    assert response.status_code == 201
    body = response.json()
    assert body.pop("created_at").endswith("Z")
    assert body == {"id": Deposit.objects.get().pk, "tid": "bank-1", "currency": "usd", "uid": member.uid, "type": "fiat", "amount": "750.77",
                    "state": "submitted", "completed_at": None}
    assert balance(member, usd) == (0, 0)
    assert Operation.objects.count() == 0


def test_deposit_new_accepted_loads_amount_minus_fee_with_three_postings(api, eur, member):
    response = api.post("/deposits/new", {"uid": member.uid.lower(), "currency": "EUR", "amount": 100, "state": "accepted"})
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "98.5" and body["state"] == "accepted" and body["currency"] == "eur"
    assert body["completed_at"] is not None and body["uid"] == member.uid
    assert body["tid"].startswith("TID") and len(body["tid"]) == 13 and body["tid"][3:] == body["tid"][3:].upper()
    deposit = Deposit.objects.get(tid=body["tid"])
    assert deposit.fee == Decimal("1.5")
    assert balance(member, eur) == (Decimal("98.5"), 0)
    assert postings(deposit) == sorted([(101, 0, Decimal("100"), None), (301, 0, Decimal("1.5"), member.pk),
                                        (201, 0, Decimal("98.5"), member.pk)])


def test_deposit_new_without_fee_writes_no_revenue_posting(api, usd, member):
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "0.0000000123456789", "state": "accepted", "tid": "t"})
    deposit = Deposit.objects.get(tid="t")
    assert postings(deposit) == sorted([(101, 0, Decimal("0.0000000123456789"), None),
                                        (201, 0, Decimal("0.0000000123456789"), member.pk)])


def test_deposit_new_lists_every_failing_check_in_order(api, usd):
    response = api.post("/deposits/new", {"uid": "U999999999", "currency": "usd", "amount": "-340.50"})
    assert response.status_code == 422
    assert response.json() == {"errors": ["Member must exist", "Amount must be greater than 0.0",
                                          "Amount must be greater than or equal to 0.0"]}


def test_deposit_new_fee_and_minimum_messages(api, eur, member):
    response = api.post("/deposits/new", {"uid": member.uid, "currency": "eur", "amount": "2.5", "tid": "x" * 65})
    assert response.json() == {"errors": ["Tid is too long (maximum is 64 characters)", "Fee must be less than 1.0",
                                          "Amount must be greater than or equal to 10.0"]}
    assert Deposit.objects.count() == 0


def test_deposit_new_parameter_errors(api, usd, btc, member):
    response = api.post("/deposits/new", {"uid": member.uid, "currency": "btc", "amount": "1", "state": "submitted"})
    assert response.status_code == 422
    assert response.json() == {"error": "currency does not have a valid value, state does not have a valid value"}
    assert api.post("/deposits/new", {}).json() == {"error": "uid is missing, currency is missing, amount is missing"}
    assert api.post("/deposits/new", {"uid": member.uid, "currency": "Usd", "amount": "x"}).json() == {
        "error": "currency does not have a valid value, amount is invalid"}


def test_deposit_new_accepts_a_disabled_fiat_currency(api, member):
    CurrencyFactory(id="gbp", enabled=False)
    assert api.post("/deposits/new", {"uid": member.uid, "currency": "gbp", "amount": "5"}).status_code == 201


def test_deposit_new_retry_with_same_parameters_answers_the_record_and_writes_nothing(api, usd, member):
    request = {"uid": member.uid, "currency": "usd", "amount": "10.50", "tid": "bank-7", "state": "accepted"}
    first = api.post("/deposits/new", request)
    Deposit.objects.filter(tid="bank-7").update(state=DepositState.ACCEPTED)
    operations = Operation.objects.count()
    again = api.post("/deposits/new", {**request, "amount": "10.5000", "currency": "USD"})
    assert again.status_code == 201 and again.json() == first.json()
    assert Operation.objects.count() == operations and balance(member, usd) == (Decimal("10.5"), 0)


def test_deposit_new_same_tid_with_other_parameters_is_taken_ignoring_case(api, usd, member):
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "10", "tid": "bank-8"})
    for tid, amount in (("bank-8", "11"), ("BANK-8", "10")):
        response = api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": amount, "tid": tid})
        assert response.status_code == 422
        assert response.json() == {"errors": ["Tid has already been taken"]}
    assert Deposit.objects.count() == 1


def test_deposit_retry_of_submitted_request_does_not_accept(api, usd, member):
    request = {"uid": member.uid, "currency": "usd", "amount": "10", "tid": "bank-9"}
    api.post("/deposits/new", request)
    response = api.post("/deposits/new", {**request, "state": "accepted"})
    assert response.json() == {"errors": ["Tid has already been taken"]}
    assert Deposit.objects.get().state == DepositState.SUBMITTED


def test_generated_tid_is_redrawn_on_collision(usd, member, monkeypatch):
    DepositFactory(member=member, currency=usd, type="fiat", tid="TIDAAAAAAAAAA", amount=1)
    draws = iter(["TIDaaaaaaaaaa", "TIDAAAAAAAAAA", "TID0123456789"])
    monkeypatch.setattr("peatio_mgmt.idempotency.generate_tid", lambda: next(draws))
    deposit = services.deposit_create(uid=member.uid, currency=usd, amount=Decimal(5), request_digest="d")
    assert deposit.tid == "TID0123456789"


# --- /deposits/get and /deposits ----------------------------------------------------------------------------------


def test_deposit_get_is_exact_on_tid(api, usd, member):
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "1", "tid": "Bank-Case"})
    assert api.post("/deposits/get", {"tid": "Bank-Case"}).json()["tid"] == "Bank-Case"
    assert api.post("/deposits/get", {"tid": "BANK-CASE"}).status_code == 404
    assert api.post("/deposits/get", {"tid": "BANK-CASE"}).json() == {"error": "Couldn't find record."}
    assert api.post("/deposits/get", {}).json() == {"error": "tid is missing"}
    assert api.post("/deposits/get", {"tid": ["x"]}).json() == {"error": "tid is invalid"}


def test_coin_deposit_renders_blockchain_fields(api, btc, member):
    coin_deposit(member, btc)
    body = api.post("/deposits/get", {"tid": "TIDCOIN00001"}).json()
    assert body["type"] == "coin" and body["amount"] == "0.25"
    assert body["blockchain_txid"] == "9f" * 32 and body["blockchain_confirmations"] == "6"


@pytest.fixture
def listed(usd, btc, member):
    other = MemberFactory()
    rows = [
        DepositFactory(member=member, currency=usd, type="fiat", tid="d1", amount=1, state="accepted"),
        DepositFactory(member=other, currency=usd, type="fiat", tid="d2", amount=2),
        DepositFactory(member=member, currency=btc, type="coin", tid="d3", amount=3, state="accepted"),
        DepositFactory(member=member, currency=usd, type="fiat", tid="d4", amount=4, state="skipped"),
        DepositFactory(member=member, currency=usd, type="fiat", tid="d5", amount=5, state="accepted"),
    ]
    return member, other, rows


def tids(response):
    return [d["tid"] for d in response.json()]


def test_deposit_list_filters_and_orders_newest_first(api, listed):
    member, other, _ = listed
    response = api.post("/deposits", {"uid": member.uid, "state": "accepted", "limit": 2})
    assert response.status_code == 201 and tids(response) == ["d5", "d3"]
    assert response.pagination == {"Total": "3", "Page": "1", "Per-Page": "2"}
    assert tids(api.post("/deposits", {"currency": "BTC"})) == ["d3"]
    assert tids(api.post("/deposits", {"uid": ""})) == ["d5", "d4", "d3", "d2", "d1"]
    assert tids(api.post("/deposits", {"uid": other.uid.lower()})) == ["d2"]
    assert tids(api.post("/deposits", {"state": "skipped"})) == ["d4"]


def test_deposit_list_pages(api, listed):
    second = api.post("/deposits", {"page": 2, "limit": 2})
    assert tids(second) == ["d3", "d2"] and second.pagination == {"Total": "5", "Page": "2", "Per-Page": "2"}
    last = api.post("/deposits", {"page": 3, "limit": 2})
    assert tids(last) == ["d1"] and last.headers["Total"] == "5"
    after = api.post("/deposits", {"page": 4, "limit": 2})
    assert after.status_code == 201 and after.json() == []
    assert after.pagination == {"Total": "5", "Page": "4", "Per-Page": "2"}
    assert api.post("/deposits", {}).pagination == {"Total": "5", "Page": "1", "Per-Page": "100"}


def test_deposit_list_errors(api, listed):
    assert api.post("/deposits", {"uid": "U000000000"}).status_code == 404
    response = api.post("/deposits", {"state": "done", "limit": 0})
    assert response.json() == {"error": "limit must be in range: 1..1000., state does not have a valid value"}
    assert api.post("/deposits", {"page": 0, "limit": 5000}).json() == {
        "error": "page must be greater than 0, limit must be in range: 1..1000."}


def test_deposit_list_query_count_does_not_grow_with_page_size(api, listed, django_assert_max_num_queries):
    for _ in range(30):
        DepositFactory(member=listed[0], tid=f"bulk{_}")
    with django_assert_max_num_queries(4):  # currencies for the parameter, member, page (+ count)
        response = api.post("/deposits", {"uid": listed[0].uid, "limit": 10})
    assert len(response.json()) == 10


# --- PUT /deposits/state and the state machine ------------------------------------------------------------------


def test_deposit_state_accepts_a_submitted_fiat_deposit(api, usd, member):
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "750.77", "tid": "b-1"})
    response = api.put("/deposits/state", {"tid": "b-1", "state": "accepted"})
    assert response.status_code == 200
    assert response.json()["state"] == "accepted" and response.json()["completed_at"] is not None
    assert balance(member, usd) == (Decimal("750.77"), 0)
    again = api.put("/deposits/state", {"tid": "b-1", "state": "canceled"})
    assert again.status_code == 422 and again.json() == {"errors": ["Cannot cancel deposit in state accepted"]}
    assert api.put("/deposits/state", {"tid": "b-1", "state": "accepted"}).json() == {
        "errors": ["Cannot accept deposit in state accepted"]}
    assert balance(member, usd) == (Decimal("750.77"), 0)


def test_deposit_state_cancel_moves_no_money(api, usd, member):
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "5", "tid": "b-2"})
    response = api.put("/deposits/state", {"tid": "b-2", "state": "canceled"})
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    assert Operation.objects.count() == 0


def test_deposit_state_finds_only_fiat_deposits_by_exact_tid(api, usd, btc, member):
    coin_deposit(member, btc, tid="TIDCOIN")
    api.post("/deposits/new", {"uid": member.uid, "currency": "usd", "amount": "5", "tid": "b-3"})
    assert api.put("/deposits/state", {"tid": "TIDCOIN", "state": "accepted"}).status_code == 404
    assert api.put("/deposits/state", {"tid": "B-3", "state": "accepted"}).status_code == 404
    assert api.put("/deposits/state", {"tid": "b-3", "state": "rejected"}).json() == {
        "error": "state does not have a valid value"}


@pytest.mark.parametrize("event", sorted(TRANSITIONS))
@pytest.mark.parametrize("state", [s.value for s in DepositState])
def test_every_deposit_transition_is_allowed_only_from_its_states(usd, member, event, state):
    deposit = DepositFactory(member=member, currency=usd, type="fiat", tid="sm", amount=1, state=state)
    allowed, target = TRANSITIONS[event]
    if state in allowed:
        DEPOSIT_MACHINE.fire(deposit, event)
        assert deposit.state == target and deposit.completed_at is not None
    else:
        with pytest.raises(IllegalTransition, match=f"Cannot {event} deposit in state {state}"):
            DEPOSIT_MACHINE.fire(deposit, event)
        assert deposit.state == state


def test_completed_at_is_kept_when_leaving_accepted(usd, member):
    deposit = services.deposit_create(uid=member.uid, currency=usd, amount=Decimal(3), accept=True, request_digest="x")
    first = deposit.completed_at
    DEPOSIT_MACHINE.fire(deposit, "skip")
    assert deposit.completed_at == first


def test_deposit_reject_and_illegal_accept_change_nothing(usd, member):
    deposit = services.deposit_create(uid=member.uid, currency=usd, amount=Decimal(3), request_digest="x")
    services.deposit_reject(deposit_id=deposit.pk)
    with pytest.raises(IllegalTransition, match="Cannot accept deposit in state rejected"):
        services.deposit_accept(deposit_id=deposit.pk)
    deposit.refresh_from_db()
    assert deposit.state == "rejected" and Operation.objects.count() == 0


# --- concurrency --------------------------------------------------------------------------------------------------


def run_threads(count, target):
    results = [None] * count
    barrier = threading.Barrier(count)

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_deposits_create_one_and_answer_all_the_same(api):
    CurrencyFactory()
    member = MemberFactory()
    request = {"uid": member.uid, "currency": "usd", "amount": "12.5", "tid": "race-1", "state": "accepted"}
    responses = run_threads(8, lambda i: api.post("/deposits/new", request))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert Deposit.objects.count() == 1 and balance(member, "usd") == (Decimal("12.5"), 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_different_deposits_with_one_tid_create_one(api):
    CurrencyFactory()
    member = MemberFactory()
    responses = run_threads(6, lambda i: api.post(
        "/deposits/new", {"uid": member.uid, "currency": "usd", "amount": str(10 + i), "tid": "race-2"}))
    assert sorted(r.status_code for r in responses) == [201] + [422] * 5
    assert all(r.json() == {"errors": ["Tid has already been taken"]} for r in responses if r.status_code == 422)
    assert Deposit.objects.count() == 1


def test_request_digest_normalises_decimals_case_and_absent_optionals(usd):
    base = {"uid": "U1", "tid": "t", "currency": usd, "amount": Decimal("10.50"), "state": None}
    assert request_digest(base) == request_digest({**base, "amount": Decimal("10.5")})
    assert request_digest(base) != request_digest({**base, "state": "accepted"})
    assert request_digest(base) != request_digest({**base, "uid": "u1"})
