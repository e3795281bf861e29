"""The four withdraw routes (management-api.md §4.6–4.9)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import Currency
from tests.factories import CurrencyFactory, MemberFactory, WithdrawFactory, fund_member
from tests.withdraws.conftest import funds, in_state, postings
from withdraws.models import Withdraw

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
D = Decimal


@pytest.fixture
def alice(usd, btc, member):
    fund_member(member, usd, "1000")
    fund_member(member, btc, "1")
    return member


def new(api, member, **data):
    return api.post("/withdraws/new", {"uid": member.uid, "currency": "usd", "amount": "5", "rid": IBAN, **data})


# --- /withdraws/new -------------------------------------------------------------------------------------------------


def test_coin_withdraw_is_submitted_with_funds_locked(api, alice, btc):
    response = api.post("/withdraws/new", {"uid": alice.uid, "currency": "btc", "amount": "0.05", "rid": BTC_ADDRESS})
    assert response.status_code == 201
    body = response.json()
    assert body.pop("created_at").endswith("Z") and body.pop("tid").startswith("TID")
    assert body == {"id": Withdraw.objects.get().pk, "uid": alice.uid, "currency": "btc", "type": "coin",
                    "amount": "0.0499", "fee": "0.0001", "rid": BTC_ADDRESS, "beneficiary_id": None,
                    "state": "submitted", "blockchain_txid": None}
    assert funds(alice, btc) == (D("0.95"), D("0.05"))
    withdraw = Withdraw.objects.get()
    assert postings(withdraw) == [(202, D("0.05"), 0, alice.pk), (212, 0, D("0.05"), alice.pk)]
    assert (withdraw.sum, withdraw.fee, withdraw.amount) == (D("0.05"), D("0.0001"), D("0.0499"))


def test_sum_is_rounded_down_to_the_currency_precision(api, alice, usd):
    body = new(api, alice, amount="160.799", tid="p-1").json()
    assert "blockchain_txid" not in body
    assert (body["amount"], body["fee"], body["state"]) == ("160.69", "0.1", "submitted")
    assert Withdraw.objects.get().sum == D("160.79")
    assert funds(alice, usd) == (D("839.21"), D("160.79"))


def test_quick_fiat_withdraw_with_process_is_paid_at_once(api, alice, usd):
    response = new(api, alice, tid="payout-5531", action="process")
    assert response.status_code == 201 and response.json()["state"] == "succeed"
    assert (response.json()["amount"], response.json()["fee"]) == ("4.9", "0.1")
    assert funds(alice, usd) == (D("995"), 0)
    withdraw = Withdraw.objects.get()
    assert withdraw.completed_at is not None
    assert postings(withdraw) == [(201, D(5), 0, alice.pk), (211, 0, D(5), alice.pk), (211, D(5), 0, alice.pk),
                                  (301, 0, D("0.1"), alice.pk), (101, D("4.9"), 0, None)]


def test_coin_withdraw_with_process_stays_submitted_for_the_audit(api, alice):
    response = api.post("/withdraws/new", {"uid": alice.uid, "currency": "BTC", "amount": "0.01", "rid": BTC_ADDRESS,
                                           "action": "process"})
    assert response.json()["state"] == "submitted"


def test_withdraw_new_lists_every_failing_check_in_order(api, usd, member):
    Currency.objects.filter(id="usd").update(enabled=False)
    response = api.post("/withdraws/new", {"uid": "U000", "currency": "usd", "amount": "-1", "rid": " " * 3, "tid": "t" * 65})
    assert response.status_code == 422
    assert response.json() == {"errors": [
        "Member must exist", "Currency is disabled", "Tid is too long (maximum is 64 characters)", "Rid can't be blank",
        "Sum must be greater than 0.0", "Amount must be greater than 0.0", "Sum must be greater than or equal to 1.0"]}
    assert Withdraw.objects.count() == 0


def test_withdraw_new_rid_length_fee_and_minimum_messages(api, alice):
    assert new(api, alice, amount="0.5", rid="").json() == {
        "errors": ["Rid can't be blank", "Sum must be greater than or equal to 1.0"]}
    assert new(api, alice, rid="x" * 96).json() == {"errors": ["Rid is too long (maximum is 95 characters)"]}
    CurrencyFactory(id="jpy", precision=0, withdraw_fee=D("1"), min_withdraw_amount=D("0"))
    fund_member(alice, Currency.objects.get(id="jpy"), "10")
    assert new(api, alice, currency="jpy", amount="1.9").json() == {"errors": ["Amount must be greater than 0.0"]}


def test_withdraw_new_insufficient_balance(api, alice, btc):
    response = api.post("/withdraws/new", {"uid": alice.uid, "currency": "btc", "amount": 1000,
                                           "rid": "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "action": "process"})
    assert response.status_code == 422 and response.json() == {"errors": ["Account balance is insufficient"]}
    assert Withdraw.objects.count() == 0 and funds(alice, btc) == (D(1), 0)


def test_withdraw_new_parameter_errors(api, alice):
    assert api.post("/withdraws/new", {}).json() == {
        "error": "uid is missing, currency is missing, amount is missing, "
                 "rid, beneficiary_id are missing, exactly one parameter must be provided"}
    assert new(api, alice, currency="Usd", action="approve").json() == {
        "error": "currency does not have a valid value, action does not have a valid value"}
    assert new(api, alice, amount="1e-17").json() == {"error": "amount is invalid"}


def test_withdraw_new_retry_answers_the_record_without_processing(api, alice, usd):
    first = new(api, alice, tid="payout-1", amount="7.00")
    again = new(api, alice, tid="payout-1", amount="7", currency="USD")
    assert again.status_code == 201 and again.json() == first.json()
    assert Withdraw.objects.count() == 1 and funds(alice, usd) == (D(993), D(7))
    taken = new(api, alice, tid="payout-1", amount="7", action="process")
    assert taken.status_code == 422 and taken.json() == {"errors": ["Tid has already been taken"]}
    assert new(api, alice, tid="PAYOUT-1", amount="7").json() == {"errors": ["Tid has already been taken"]}
    assert Withdraw.objects.get().state == "submitted"


def test_withdraw_and_deposit_may_share_a_tid(api, alice):
    api.post("/deposits/new", {"uid": alice.uid, "currency": "usd", "amount": "1", "tid": "shared"})
    assert new(api, alice, tid="shared").status_code == 201


# --- /withdraws/get and /withdraws ----------------------------------------------------------------------------------


def test_withdraw_get_is_exact_on_tid(api, alice):
    new(api, alice, tid="payout-5531")
    assert api.post("/withdraws/get", {"tid": "payout-5531"}).json()["amount"] == "4.9"
    assert api.post("/withdraws/get", {"tid": "PAYOUT-5531"}).json() == {"error": "Couldn't find record."}
    assert api.post("/withdraws/get", {"tid": ["payout-5531"]}).json() == {"error": "tid is invalid"}


def test_withdraw_list_filters_pages_and_headers(api, alice, usd, btc):
    bob = MemberFactory()
    fund_member(bob, btc, "1")
    for i in range(3):
        new(api, alice, tid=f"u{i}")
    api.post("/withdraws/new", {"uid": bob.uid, "currency": "btc", "amount": "0.01", "rid": BTC_ADDRESS, "tid": "b0"})
    api.put("/withdraws/action", {"tid": "u1", "action": "cancel"})
    listed = api.post("/withdraws", {})
    assert [w["tid"] for w in listed.json()] == ["b0", "u2", "u1", "u0"]
    assert listed.pagination == {"Total": "4", "Page": "1", "Per-Page": "100"}
    assert [w["tid"] for w in api.post("/withdraws", {"uid": bob.uid.lower(), "currency": "BTC"}).json()] == ["b0"]
    assert [w["tid"] for w in api.post("/withdraws", {"uid": "", "state": "canceled"}).json()] == ["u1"]
    page = api.post("/withdraws", {"currency": "usd", "page": 2, "limit": 2})
    assert [w["tid"] for w in page.json()] == ["u0"] and page.pagination == {"Total": "3", "Page": "2", "Per-Page": "2"}
    beyond = api.post("/withdraws", {"page": 9, "limit": 2})
    assert beyond.status_code == 201 and beyond.json() == [] and beyond.pagination == {"Total": "4", "Page": "9", "Per-Page": "2"}
    assert api.post("/withdraws", {"uid": "U000000000"}).status_code == 404
    assert api.post("/withdraws", {"state": "done"}).json() == {"error": "state does not have a valid value"}


def test_withdraw_list_queries_do_not_grow_with_the_page(api, alice, django_assert_max_num_queries):
    for i in range(12):
        new(api, alice, tid=f"q{i}", amount="1")
    with django_assert_max_num_queries(3):
        assert len(api.post("/withdraws", {"limit": 10}).json()) == 10


# --- PUT /withdraws/action ------------------------------------------------------------------------------------------


def test_cancel_unlocks_funds(api, alice, btc):
    api.post("/withdraws/new", {"uid": alice.uid, "currency": "btc", "amount": "0.15", "rid": BTC_ADDRESS, "tid": "c1"})
    response = api.put("/withdraws/action", {"tid": "c1", "action": "cancel"})
    assert response.status_code == 200 and response.json()["state"] == "canceled"
    assert funds(alice, btc) == (D(1), 0)
    withdraw = Withdraw.objects.get()
    assert postings(withdraw)[2:] == [(212, D("0.15"), 0, alice.pk), (202, 0, D("0.15"), alice.pk)]
    again = api.put("/withdraws/action", {"tid": "c1", "action": "cancel"})
    assert again.status_code == 422 and again.json() == {"errors": ["Cannot cancel withdraw in state canceled"]}


def test_process_of_a_submitted_fiat_withdraw_pays_it_when_quick(api, alice, usd):
    new(api, alice, tid="payout-5540", amount="160.799")
    response = api.put("/withdraws/action", {"tid": "payout-5540", "action": "process"})
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["amount"]) == ("succeed", "160.69")
    assert funds(alice, usd) == (D("839.21"), 0)
    assert api.put("/withdraws/action", {"tid": "payout-5540", "action": "process"}).json() == {
        "errors": ["Cannot process withdraw in state succeed"]}
    assert api.put("/withdraws/action", {"tid": "payout-5540", "action": "cancel"}).json() == {
        "errors": ["Cannot cancel withdraw in state succeed"]}


def test_process_of_a_fiat_withdraw_over_the_limits_stops_at_accepted(api, alice, usd):
    fund_member(alice, usd, "500")
    new(api, alice, tid="big", amount="1000.01")
    response = api.put("/withdraws/action", {"tid": "big", "action": "process"})
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    assert funds(alice, usd) == (D("499.99"), D("1000.01"))
    assert api.put("/withdraws/action", {"tid": "big", "action": "process"}).json()["state"] == "accepted"
    assert api.put("/withdraws/action", {"tid": "big", "action": "cancel"}).json()["state"] == "canceled"


def test_process_rejects_a_fiat_withdraw_of_a_disabled_member(api, alice, usd):
    new(api, alice, tid="r1")
    alice.state = "banned"
    alice.save()
    response = api.put("/withdraws/action", {"tid": "r1", "action": "process"})
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    assert funds(alice, usd) == (D(1000), 0)
    assert Withdraw.objects.get().error[0]["message"] == "Member is not enabled"


def test_process_of_a_coin_withdraw_or_a_worker_state_changes_nothing(api, alice, btc):
    api.post("/withdraws/new", {"uid": alice.uid, "currency": "btc", "amount": "0.01", "rid": BTC_ADDRESS, "tid": "k"})
    for state in ("submitted", "accepted", "processing", "confirming", "skipped", "errored"):
        in_state(Withdraw.objects.get(tid="k"), state)
        response = api.put("/withdraws/action", {"tid": "k", "action": "process"})
        assert response.status_code == 200 and response.json()["state"] == state
    assert api.put("/withdraws/action", {"tid": "k", "action": "cancel"}).json() == {
        "errors": ["Cannot cancel withdraw in state errored"]}
    assert funds(alice, btc) == (D("0.99"), D("0.01"))


def test_process_of_a_prepared_withdraw_submits_it(api, alice, usd):
    withdraw = WithdrawFactory(member=alice, currency=usd, type="fiat", tid="prep", rid=IBAN,
                               sum=D("2000"), fee=D("0.1"), amount=D("1999.9"))
    response = api.put("/withdraws/action", {"tid": "prep", "action": "process"})
    assert response.json() == {"errors": ["Account balance is insufficient"]}
    Withdraw.objects.filter(pk=withdraw.pk).update(sum=D("2"), amount=D("1.9"))
    assert api.put("/withdraws/action", {"tid": "prep", "action": "process"}).json()["state"] == "succeed"
    assert funds(alice, usd) == (D(998), 0)


def test_cancel_of_a_prepared_withdraw_moves_no_money(api, alice, usd):
    WithdrawFactory(member=alice, currency=usd, type="fiat", tid="prep", rid=IBAN, sum=D(2), fee=D("0.1"),
                    amount=D("1.9"))
    assert api.put("/withdraws/action", {"tid": "prep", "action": "cancel"}).json()["state"] == "canceled"
    assert postings(Withdraw.objects.get()) == []


def test_withdraw_action_errors(api, alice):
    new(api, alice, tid="payout-5531")
    assert api.put("/withdraws/action", {"tid": "payout-5531", "action": "approve"}).json() == {
        "error": "action does not have a valid value"}
    assert api.put("/withdraws/action", {"tid": "PAYOUT-5531", "action": "cancel"}).status_code == 404
    assert api.put("/withdraws/action", {}).json() == {"error": "tid is missing, action is missing"}


# --- concurrency ----------------------------------------------------------------------------------------------------


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
def test_twenty_concurrent_withdraws_on_a_balance_covering_five(api):
    usd = CurrencyFactory()
    member = MemberFactory()
    fund_member(member, usd, "50")
    responses = run_threads(20, lambda i: api.post(
        "/withdraws/new", {"uid": member.uid, "currency": "usd", "amount": "10", "rid": IBAN}))
    assert sorted(r.status_code for r in responses) == [201] * 5 + [422] * 15
    assert all(r.json() == {"errors": ["Account balance is insufficient"]} for r in responses if r.status_code == 422)
    assert funds(member, usd) == (0, D(50)) and Withdraw.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_withdraws_lock_funds_once(api):
    usd = CurrencyFactory()
    member = MemberFactory()
    fund_member(member, usd, "50")
    request = {"uid": member.uid, "currency": "usd", "amount": "10", "rid": IBAN, "tid": "same"}
    responses = run_threads(6, lambda i: api.post("/withdraws/new", request))
    assert {r.status_code for r in responses} == {201} and len({r.content for r in responses}) == 1
    assert funds(member, usd) == (D(40), D(10))
