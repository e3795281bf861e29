"""POST /transfers/new (management-api.md §4.20, §1.8; domain.md §8)."""

import re
import threading
from decimal import Decimal

import pytest
from django.db import connection

from ledger.models import Account, Operation, Transfer
from tests.factories import fund_member
from tests.ledger.conftest import ALICE, BOB, CAROL

pytestmark = pytest.mark.django_db

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")

REFERRAL_PAYOFF = {
    "key": 80412, "kind": "referral-payoff", "desc": "Referral payoffs 2026-11-23",
    "operations": [
        {"currency": "btc", "amount": "0.0001", "account_src": {"code": 302}, "account_dst": {"code": 202, "uid": ALICE}},
        {"currency": "usd", "amount": "0.075", "account_src": {"code": 301}, "account_dst": {"code": 201, "uid": CAROL}},
    ],
}


def member_transfer(key, amount, src=ALICE, dst=BOB, currency="usd"):
    return {"key": key, "kind": "member-transfer",
            "operations": [{"currency": currency, "amount": amount, "account_src": {"code": 201, "uid": src},
                            "account_dst": {"code": 201, "uid": dst}}]}


def without_times(body):
    for name in ("liabilities", "assets", "expenses", "revenues"):
        for posting in body.get(name, []):
            assert ISO.match(posting.pop("created_at"))
            assert next(iter(posting)) == "id" and Operation.objects.filter(pk=posting.pop("id")).exists()
    return body


def balance(member, currency):
    account = Account.objects.filter(member=member, currency=currency).first()
    return (account.balance, account.locked) if account else (0, 0)


def test_referral_payoff_from_revenues_to_members(api, demo, alice, carol, btc, usd):
    response = api.post("/transfers/new", REFERRAL_PAYOFF)

    assert response.status_code == 201
    assert without_times(response.json()) == {
        "key": 80412, "kind": "referral-payoff", "desc": "Referral payoffs 2026-11-23",
        "liabilities": [
            {"code": "202", "currency": "btc", "credit": "0.0001", "uid": ALICE, "reference_type": "transfer"},
            {"code": "201", "currency": "usd", "credit": "0.075", "uid": CAROL, "reference_type": "transfer"},
        ],
        "revenues": [
            {"code": "302", "currency": "btc", "debit": "0.0001", "reference_type": "transfer"},
            {"code": "301", "currency": "usd", "debit": "0.075", "reference_type": "transfer"},
        ],
    }
    assert balance(alice, btc) == (Decimal("0.0001"), 0)
    assert balance(carol, usd) == (Decimal("0.075"), 0)
    transfer = Transfer.objects.get()
    assert set(Operation.objects.values_list("reference_type", "reference_id")) == {("transfer", transfer.pk)}


def test_member_transfer_between_two_members(api, demo, alice, bob, usd):
    fund_member(alice, usd, 100)

    response = api.post("/transfers/new", member_transfer(80413, 25))

    assert response.status_code == 201
    assert without_times(response.json()) == {
        "key": 80413, "kind": "member-transfer", "desc": None,
        "liabilities": [
            {"code": "201", "currency": "usd", "debit": "25.0", "uid": ALICE, "reference_type": "transfer"},
            {"code": "201", "currency": "usd", "credit": "25.0", "uid": BOB, "reference_type": "transfer"},
        ],
    }
    assert balance(alice, usd) == (75, 0)
    assert balance(bob, usd) == (25, 0)


def test_transfer_from_a_member_to_the_platform_and_back(api, demo, alice, usd, btc, token_distribution_account):
    fund_member(alice, usd, 10)
    to_expense = {"key": 1, "kind": "fee-refund-reversal",
                  "operations": [{"currency": "usd", "amount": "4", "account_src": {"code": 201, "uid": ALICE},
                                  "account_dst": {"code": 401}}]}
    response = api.post("/transfers/new", to_expense)
    assert response.status_code == 201
    assert set(response.json()) == {"key", "kind", "desc", "liabilities", "expenses"}
    assert balance(alice, usd) == (6, 0)

    distribution = {"key": 2, "kind": "token-distribution",
                    "operations": [{"currency": "btc", "amount": "3", "account_src": {"code": 292},
                                    "account_dst": {"code": 202, "uid": ALICE.lower()}}]}
    response = api.post("/transfers/new", distribution)
    assert response.status_code == 201
    assert without_times(response.json())["liabilities"] == [
        {"code": "292", "currency": "btc", "debit": "3.0", "reference_type": "transfer"},
        {"code": "202", "currency": "btc", "credit": "3.0", "uid": ALICE, "reference_type": "transfer"},
    ]
    assert balance(alice, btc) == (3, 0)


def test_a_transfer_balances_per_currency(api, demo, alice, usd):
    fund_member(alice, usd, 10)
    assert api.post("/transfers/new", REFERRAL_PAYOFF).status_code == 201
    for currency in ("btc", "usd"):
        postings = Operation.objects.filter(reference_type="transfer", currency_id=currency)
        assert sum(p.debit for p in postings) == sum(p.credit for p in postings) > 0


def test_a_retry_with_the_same_parameters_answers_the_stored_transfer_and_posts_nothing(api, demo, alice, bob, usd):
    fund_member(alice, usd, 100)
    first = api.post("/transfers/new", member_transfer(7, "25"))
    # the same request written differently: uppercase currency and uid, amount with trailing zeros, as a number
    again = member_transfer(7, "25.000", src=ALICE.lower(), dst=BOB)
    again["operations"][0]["currency"] = "USD"

    retry = api.post("/transfers/new", again)

    assert (retry.status_code, retry.json()) == (201, first.json())
    assert Operation.objects.filter(reference_type="transfer").count() == 2
    assert balance(alice, usd) == (75, 0)


def test_the_same_key_with_other_parameters_is_refused(api, demo, alice, usd):
    assert api.post("/transfers/new", REFERRAL_PAYOFF).status_code == 201
    other = {"key": 80412, "kind": "referral-payoff",
             "operations": [{"currency": "btc", "amount": "0.0001", "account_src": {"code": 302},
                             "account_dst": {"code": 202, "uid": ALICE}}]}

    response = api.post("/transfers/new", other)

    assert (response.status_code, response.json()) == (422, {"errors": ["Key has already been taken"]})
    assert Operation.objects.count() == 4 and Transfer.objects.count() == 1


def test_uid_given_for_a_platform_code_is_ignored_by_the_retry_rule(api, demo, alice):
    assert api.post("/transfers/new", REFERRAL_PAYOFF).status_code == 201
    again = {**REFERRAL_PAYOFF, "operations": [dict(op) for op in REFERRAL_PAYOFF["operations"]]}
    again["operations"][0]["account_src"] = {"code": 302, "uid": "whatever"}
    assert api.post("/transfers/new", again).status_code == 201
    assert Operation.objects.count() == 4


@pytest.mark.parametrize("data, message", [
    ({"key": 80414, "kind": "x",
      "operations": [{"currency": "neo", "amount": -1, "account_src": {"code": "999"}, "account_dst": {"code": "201"}}]},
     "operations[0][currency] does not have a valid value, operations[0][amount] does not have a valid value, "
     "operations[0][account_src][code] does not have a valid value, operations[0][account_dst][uid] is missing"),
    ({}, "key is missing, kind is missing, operations is missing"),
    ({"key": 1, "kind": "x", "operations": []}, "operations is empty"),
    ({"key": 1, "kind": "x", "operations": {"currency": "usd"}}, "operations is invalid"),
    ({"key": 1, "kind": "x", "operations": [1]}, "operations is invalid"),
    ({"key": "one", "kind": "x", "operations": [{"currency": "usd", "amount": 1, "account_src": {"code": 301},
                                                 "account_dst": []}]},
     "key is invalid, operations[0][account_dst] is invalid"),
    ({"key": 1, "kind": "x", "operations": [
        {"currency": "usd", "amount": 1, "account_src": {"code": 301}, "account_dst": {"code": 401}},
        {"currency": "usd", "amount": "0.000000000000000001"}]},
     "operations[1][amount] is invalid, operations[1][account_src] is missing, operations[1][account_dst] is missing"),
])
def test_transfer_parameters_are_checked(api, demo, data, message):
    response = api.post("/transfers/new", data)
    assert (response.status_code, response.json()) == (422, {"error": message})
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("kind, desc, message", [
    ("", None, "Kind can't be blank"),
    ("   ", None, "Kind can't be blank"),
    ("k" * 31, None, "Kind is too long (maximum is 30 characters)"),
    ("k" * 31, "d" * 256, "Kind is too long (maximum is 30 characters)"),
    ("k" * 30, "d" * 256, "Desc is too long (maximum is 255 characters)"),
])
def test_kind_and_desc_are_business_rules(api, demo, kind, desc, message):
    data = {"key": 5, "kind": kind, "operations": [{"currency": "usd", "amount": 1, "account_src": {"code": 301},
                                                     "account_dst": {"code": 401}}]}
    if desc is not None:
        data["desc"] = desc
    response = api.post("/transfers/new", data)
    assert (response.status_code, response.json()) == (422, {"errors": [message]})
    assert not Transfer.objects.exists() and not Operation.objects.exists()


def test_thirty_character_kind_and_255_character_desc_are_accepted(api, demo):
    data = {"key": 5, "kind": "k" * 30, "desc": "é" * 255,
            "operations": [{"currency": "usd", "amount": 1, "account_src": {"code": 301}, "account_dst": {"code": 401}}]}
    response = api.post("/transfers/new", data)
    assert response.status_code == 201 and response.json()["desc"] == "é" * 255


def _three_operations(second):
    return {"key": 9, "kind": "batch", "operations": [
        {"currency": "usd", "amount": "5", "account_src": {"code": 301}, "account_dst": {"code": 201, "uid": ALICE}},
        second,
        {"currency": "usd", "amount": "1", "account_src": {"code": 201, "uid": BOB}, "account_dst": {"code": 401}},
    ]}


@pytest.mark.parametrize("second, status, body", [
    ({"currency": "usd", "amount": "55.0000000000000001", "account_src": {"code": 201, "uid": ALICE},
      "account_dst": {"code": 201, "uid": BOB}}, 422, {"errors": ["Account balance is insufficient"]}),
    ({"currency": "usd", "amount": "1", "account_src": {"code": 211, "uid": BOB},
      "account_dst": {"code": 201, "uid": BOB}}, 422, {"errors": ["Account locked balance is insufficient"]}),
    ({"currency": "usd", "amount": "1", "account_src": {"code": 201, "uid": "U000000000"},
      "account_dst": {"code": 201, "uid": BOB}}, 404, {"error": "Couldn't find record."}),
    ({"currency": "btc", "amount": "1", "account_src": {"code": 301}, "account_dst": {"code": 202, "uid": BOB}},
     422, {"errors": ["Currency type and account currency type don't match"]}),
])
def test_a_failing_operation_in_the_middle_leaves_nothing(api, demo, alice, bob, usd, second, status, body):
    fund_member(alice, usd, 50)
    fund_member(bob, usd, 10)
    operations_before = Operation.objects.count()

    response = api.post("/transfers/new", _three_operations(second))

    assert (response.status_code, response.json()) == (status, body)
    assert not Transfer.objects.exists()
    assert Operation.objects.count() == operations_before
    assert balance(alice, usd) == (50, 0) and balance(bob, usd) == (10, 0)


def test_the_whole_balance_may_be_moved_and_an_account_may_be_its_own_destination(api, demo, alice, bob, usd):
    fund_member(alice, usd, 50)
    second = {"currency": "usd", "amount": "55", "account_src": {"code": 201, "uid": ALICE},
              "account_dst": {"code": 201, "uid": ALICE}}
    response = api.post("/transfers/new", _three_operations(second) | {"key": 10})
    # Alice's 50 plus the 5 of the first operation cover the second one; Bob had nothing for the third
    assert response.json() == {"errors": ["Account balance is insufficient"]}
    fund_member(bob, usd, 1)
    assert api.post("/transfers/new", _three_operations(second) | {"key": 10}).status_code == 201
    assert balance(alice, usd) == (55, 0) and balance(bob, usd) == (0, 0)


def test_sixteen_fractional_digits_are_kept(api, demo, alice, btc):
    data = {"key": 3, "kind": "dust", "operations": [
        {"currency": "btc", "amount": "0.0000000000000001", "account_src": {"code": 302},
         "account_dst": {"code": 202, "uid": ALICE}}]}
    response = api.post("/transfers/new", data)
    assert response.json()["liabilities"][0]["credit"] == "0.0000000000000001"
    assert balance(alice, btc) == (Decimal("1E-16"), 0)


def _race(api, requests):
    barrier = threading.Barrier(len(requests))
    responses = [None] * len(requests)

    def send(i):
        try:
            barrier.wait()
            responses[i] = api.post("/transfers/new", requests[i])
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return responses


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_transfers_post_once(api, demo, alice, bob, usd):
    fund_member(alice, usd, 100)

    responses = _race(api, [member_transfer(42, "10")] * 20)

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert Transfer.objects.count() == 1
    assert Operation.objects.filter(reference_type="transfer").count() == 2
    assert balance(alice, usd) == (90, 0) and balance(bob, usd) == (10, 0)


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_different_transfers_with_one_key_one_wins(api, demo, alice, bob, usd):
    fund_member(alice, usd, 1000)

    responses = _race(api, [member_transfer(43, str(i + 1)) for i in range(20)])

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [422] * 19
    assert all(r.json() == {"errors": ["Key has already been taken"]} for r in responses if r.status_code == 422)
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    moved = Decimal(winner["liabilities"][0]["debit"])
    assert Operation.objects.filter(reference_type="transfer").count() == 2
    assert balance(alice, usd) == (1000 - moved, 0) and balance(bob, usd) == (moved, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_transfers_in_opposite_directions_do_not_deadlock(api, demo, alice, bob, usd, btc):
    fund_member(alice, usd, 100)
    fund_member(bob, usd, 100)
    requests = [member_transfer(100 + i, "1", *((ALICE, BOB) if i % 2 else (BOB, ALICE))) for i in range(20)]

    responses = _race(api, requests)

    assert [r.status_code for r in responses] == [201] * 20
    assert balance(alice, usd) == (100, 0) and balance(bob, usd) == (100, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_transfers_that_fail_are_each_judged_on_their_own(api, demo, alice, bob, usd):
    fund_member(alice, usd, 5)

    responses = _race(api, [member_transfer(44, "10")] * 10)

    assert [(r.status_code, r.json()) for r in responses] == [(422, {"errors": ["Account balance is insufficient"]})] * 10
    assert not Transfer.objects.exists()
    assert balance(alice, usd) == (5, 0)
