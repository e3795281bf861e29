"""The four journals: list and post operations (management-api.md §4.11–4.19)."""

import re
from decimal import Decimal

import pytest

from ledger.core import Entry, Reference
from ledger.models import Account, Operation
from tests.factories import fund_member
from tests.ledger.conftest import ALICE, BOB, CAROL, platform_posting

pytestmark = pytest.mark.django_db
# Journals written posting by posting for the filters, referring to deposits and withdraws that do not exist: the
# books check would report every one of them, so it is not run after these tests.
BY_HAND = pytest.mark.books_breached

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


def without_ids(items):
    """The postings without their `id` (management-api-extensions.md §6.1), each checked: written first, a
    stored posting's id."""
    for item in items:
        assert next(iter(item)) == "id" and Operation.objects.filter(pk=item.pop("id")).exists()
    return items


def without_time(items):
    for item in without_ids(items):
        assert ISO.match(item.pop("created_at"))
    return items


# Lists ---------------------------------------------------------------------------------------------------------------


@BY_HAND
def test_assets_filtered_by_currency_and_reference_type_newest_first(api, demo):
    for i, day in enumerate(["2026-11-14", "2026-11-15", "2026-11-16", "2026-11-17", "2026-11-18"]):
        platform_posting(102, "btc", credit=f"0.{i + 1}", created_at=f"{day}T10:00:00Z", reference=("deposit", i + 1))
    platform_posting(102, "btc", credit="1.2", created_at="2026-11-20T18:03:44Z", reference=("deposit", 6))
    platform_posting(102, "btc", debit="0.05", created_at="2026-11-20T19:00:00Z", reference=("withdraw", 1))
    platform_posting(101, "usd", credit="5", created_at="2026-11-21T09:00:00Z", reference=("deposit", 7))
    platform_posting(102, "btc", credit="0.25", created_at="2026-11-21T09:58:12Z", reference=("deposit", 8))

    response = api.post("/assets", {"currency": "btc", "reference_type": "deposit", "limit": 2})

    assert response.status_code == 201
    assert response.pagination == {"Total": "7", "Page": "1", "Per-Page": "2"}
    assert without_ids(response.json()) == [
        {"code": "102", "currency": "btc", "credit": "0.25", "reference_type": "deposit", "created_at": "2026-11-21T09:58:12Z"},
        {"code": "102", "currency": "btc", "credit": "1.2", "reference_type": "deposit", "created_at": "2026-11-20T18:03:44Z"},
    ]


@BY_HAND
def test_time_filters_include_time_from_and_exclude_time_to_at_full_precision(api, demo):
    platform_posting(101, "usd", debit="1", created_at="2026-11-22T23:59:59.999999Z", reference=("withdraw", 1))
    platform_posting(101, "usd", debit="2", created_at="2026-11-23T00:00:00Z", reference=("withdraw", 2))
    platform_posting(101, "usd", debit="4.9", created_at="2026-11-23T09:12:40Z", reference=("withdraw", 3))
    platform_posting(101, "usd", debit="3", created_at="2026-11-23T10:14:59.999999Z", reference=("withdraw", 4))
    platform_posting(101, "usd", debit="5", created_at="2026-11-23T10:15:00Z", reference=("withdraw", 5))

    response = api.post("/assets", {"time_from": 1795392000, "time_to": 1795428900})

    assert response.status_code == 201
    assert [item["debit"] for item in response.json()] == ["3.0", "4.9", "2.0"]
    assert without_ids(response.json())[1] == {"code": "101", "currency": "usd", "debit": "4.9", "reference_type": "withdraw",
                                  "created_at": "2026-11-23T09:12:40Z"}
    assert response.headers["Total"] == "3"


@pytest.mark.parametrize("time_from, time_to, expected", [
    (-(2**63), 2**63 - 1, 1),      # bounds beyond any date select everything ...
    (2**63 - 1, None, 0),          # ... or nothing, without an error
    ("1795392000", None, 1),       # integers may be given as strings
])
def test_time_filters_accept_any_64_bit_integer(api, demo, time_from, time_to, expected):
    platform_posting(101, "usd", debit="1", created_at="2026-11-23T00:00:00Z")
    data = {"time_from": time_from} | ({"time_to": time_to} if time_to is not None else {})
    response = api.post("/assets", data)
    assert response.status_code == 201 and len(response.json()) == expected


def test_unknown_currency_is_refused(api, demo):
    response = api.post("/assets", {"currency": "doge"})
    assert (response.status_code, response.json()) == (422, {"error": "currency does not have a valid value"})


def test_expenses_of_a_currency_and_a_page_after_the_last(api, demo):
    platform_posting(401, "usd", credit="120", created_at="2026-11-22T08:30:00Z")
    platform_posting(402, "btc", credit="1", created_at="2026-11-22T08:31:00Z")

    response = api.post("/expenses", {"currency": "usd"})
    assert response.status_code == 201
    assert response.pagination == {"Total": "1", "Page": "1", "Per-Page": "100"}
    assert without_ids(response.json()) == [
        {"code": "401", "currency": "usd", "credit": "120.0", "reference_type": None, "created_at": "2026-11-22T08:30:00Z"}
    ]

    response = api.post("/expenses", {"page": 2, "limit": 8})
    assert (response.status_code, response.json()) == (201, [])
    assert response.pagination == {"Total": "2", "Page": "2", "Per-Page": "8"}


@pytest.mark.parametrize("data, message", [
    ({"time_from": "yesterday"}, "time_from is invalid"),
    ({"time_to": 1795305600, "limit": "ten"}, "limit is invalid"),
    ({"page": 0, "limit": 1001}, "page must be greater than 0, limit must be in range: 1..1000."),
    ({"time_from": 1.5}, "time_from is invalid"),
])
def test_list_parameters_are_checked(api, demo, data, message):
    response = api.post("/expenses", data)
    assert (response.status_code, response.json()) == (422, {"error": message})


@BY_HAND
def test_revenues_show_the_paying_member_and_filter_reference_type_ignoring_case(api, demo, alice, carol):
    platform_posting(301, "eur", credit="1.5", created_at="2026-11-23T10:14:02Z", reference=("deposit", 1), member=alice)
    for i, (member, time) in enumerate([(alice, "2026-11-20T09:00:00Z"), (carol, "2026-11-21T09:00:00Z"),
                                        (alice, "2026-11-22T09:00:00Z"), (alice, "2026-11-23T09:12:40Z"),
                                        (carol, "2026-11-23T10:01:10Z")]):
        platform_posting(301, "usd", credit="0.1", created_at=time, reference=("withdraw", i + 1), member=member)
    platform_posting(301, "usd", debit="0.25", created_at="2026-11-23T10:15:33Z")

    response = api.post("/revenues", {"currency": "eur", "reference_type": "deposit"})
    assert response.status_code == 201
    assert response.pagination == {"Total": "1", "Page": "1", "Per-Page": "100"}
    assert without_ids(response.json()) == [{"code": "301", "currency": "eur", "credit": "1.5", "uid": ALICE,
                                "reference_type": "deposit", "created_at": "2026-11-23T10:14:02Z"}]

    response = api.post("/revenues", {"reference_type": "Withdraw", "currency": "USD", "limit": 2})
    assert response.status_code == 201
    assert response.pagination == {"Total": "5", "Page": "1", "Per-Page": "2"}
    assert without_ids(response.json()) == [
        {"code": "301", "currency": "usd", "credit": "0.1", "uid": CAROL, "reference_type": "withdraw", "created_at": "2026-11-23T10:01:10Z"},
        {"code": "301", "currency": "usd", "credit": "0.1", "uid": ALICE, "reference_type": "withdraw", "created_at": "2026-11-23T09:12:40Z"},
    ]

    # an empty reference_type is no filter; mixed-case currency is not a currency
    assert api.post("/revenues", {"reference_type": ""}).headers["Total"] == "7"
    assert api.post("/revenues", {"currency": "Usd"}).json() == {"error": "currency does not have a valid value"}


def _bob_btc_history(bob, btc):
    """Deposits and withdraw locks of Bob in btc through the ledger core: six liability postings."""
    fund_member(bob, btc, "0.25", reference=Reference("deposit", 1))
    fund_member(bob, btc, "1.2", reference=Reference("deposit", 2))
    Entry(Reference("withdraw", 1)).lock_funds(bob, btc, Decimal("0.15")).post()
    Entry(Reference("withdraw", 2)).lock_funds(bob, btc, Decimal("0.05")).post()


@BY_HAND
def test_liabilities_of_a_member_in_a_currency(api, demo, bob, btc, usd, alice):
    _bob_btc_history(bob, btc)
    fund_member(bob, usd, 10)
    fund_member(alice, btc, 1)

    response = api.post("/liabilities", {"uid": BOB, "currency": "btc", "limit": 3})

    assert response.status_code == 201
    assert response.pagination == {"Total": "6", "Page": "1", "Per-Page": "3"}
    assert without_time(response.json()) == [
        {"code": "212", "currency": "btc", "credit": "0.05", "uid": BOB, "reference_type": "withdraw"},
        {"code": "202", "currency": "btc", "debit": "0.05", "uid": BOB, "reference_type": "withdraw"},
        {"code": "212", "currency": "btc", "credit": "0.15", "uid": BOB, "reference_type": "withdraw"},
    ]
    # uid ignores case; without currency every currency of the member; empty uid is no filter
    assert api.post("/liabilities", {"uid": BOB.lower()}).headers["Total"] == "7"
    assert api.post("/liabilities", {"uid": ""}).headers["Total"] == "8"


def test_liabilities_of_an_unknown_member_is_not_found(api, demo):
    response = api.post("/liabilities", {"uid": "U000000000"})
    assert (response.status_code, response.json()) == (404, {"error": "Couldn't find record."})


def test_liabilities_limit_goes_up_to_ten_thousand(api, demo):
    assert api.post("/liabilities", {"limit": 10001}).json() == {"error": "limit must be in range: 1..10000."}
    response = api.post("/liabilities", {"reference_type": "transfer", "limit": 10000})
    assert (response.status_code, response.headers["Per-Page"]) == (201, "10000")
    assert api.post("/assets", {"limit": 10000}).json() == {"error": "limit must be in range: 1..1000."}


@BY_HAND
def test_reference_type_of_postings_made_by_deposits_withdraws_and_transfers(api, demo, alice, bob, usd):
    fund_member(alice, usd, 100, reference=Reference("deposit", 7))
    Entry(Reference("withdraw", 3)).lock_funds(alice, usd, Decimal("10")).post()
    transfer = {"key": 1, "kind": "member-transfer",
                "operations": [{"currency": "usd", "amount": 5, "account_src": {"code": 201, "uid": ALICE},
                                "account_dst": {"code": 201, "uid": BOB}}]}
    assert api.post("/transfers/new", transfer).status_code == 201
    assert api.post("/liabilities/new", {"currency": "usd", "code": 201, "uid": ALICE, "credit": 1}).status_code == 201

    def types(data):
        return [item["reference_type"] for item in api.post("/liabilities", data).json()]

    assert types({"uid": ALICE}) == [None, "transfer", "withdraw", "withdraw", "deposit"]
    assert types({"reference_type": "TRANSFER"}) == ["transfer", "transfer"]
    assert types({"reference_type": "deposit"}) == ["deposit"]
    assert [i["reference_type"] for i in api.post("/assets").json()] == ["deposit"]


@BY_HAND
def test_a_list_is_a_fixed_number_of_queries_whatever_the_page_size(api, demo, alice, usd, django_assert_max_num_queries):
    for _ in range(30):
        fund_member(alice, usd, 1, reference=Reference("deposit", 1))
    data = {"uid": ALICE, "currency": "usd", "reference_type": "deposit", "time_from": 0}
    # currencies (parameter check), member, ids of the page, their rows, COUNT (a full page cannot tell the total)
    with django_assert_max_num_queries(5):
        assert len(api.post("/liabilities", data | {"limit": 5}).json()) == 5
    with django_assert_max_num_queries(5):
        assert len(api.post("/liabilities", data | {"limit": 1000}).json()) == 30
    with django_assert_max_num_queries(2):  # a short first page tells the total: no COUNT
        assert len(api.post("/assets", {"limit": 1000}).json()) == 30


# Create ---------------------------------------------------------------------------------------------------------------


def test_asset_credit_on_a_platform_account(api, demo):
    response = api.post("/assets/new", {"currency": "btc", "code": 102, "credit": "0.2515"})

    assert response.status_code == 201
    body = response.json()
    assert ISO.match(body.pop("created_at"))
    assert body.pop("id") == Operation.objects.get().pk
    assert body == {"code": "102", "currency": "btc", "credit": "0.2515", "reference_type": None}
    posting = Operation.objects.get()
    assert (posting.type, posting.code_id, posting.member_id, posting.credit, posting.debit, posting.reference_id) == (
        "asset", 102, None, Decimal("0.2515"), 0, None)


def test_currency_type_not_matching_the_account_is_refused_and_writes_nothing(api, demo):
    response = api.post("/assets/new", {"currency": "usd", "code": 102, "debit": 10})
    assert (response.status_code, response.json()) == (422, {"errors": ["Currency type and account currency type don't match"]})
    assert not Operation.objects.exists()


@pytest.mark.parametrize("route, data, message", [
    ("/assets/new", {"currency": "usd", "code": "201", "debit": 10, "credit": 5},
     "code does not have a valid value, debit, credit are mutually exclusive"),
    ("/assets/new", {"currency": "btc", "code": 102}, "debit, credit are missing, exactly one parameter must be provided"),
    ("/expenses/new", {"currency": "eth", "code": 402, "debit": "0.000000000000000001"}, "debit is invalid"),
    ("/expenses/new", {"currency": "usd", "code": "401", "debit": "-3"}, "debit does not have a valid value"),
    ("/expenses/new", {"currency": "usd", "code": "401", "credit": 0}, "credit does not have a valid value"),
    ("/revenues/new", {"currency": "btc", "code": 301}, "debit, credit are missing, exactly one parameter must be provided"),
    ("/revenues/new", {}, "currency is missing, code is missing, debit, credit are missing, exactly one parameter must be provided"),
    ("/liabilities/new", {"currency": "usd", "code": "201", "credit": "5"}, "uid is missing"),
    # uid is not asked for when the code itself is invalid
    ("/liabilities/new", {"currency": "usd", "code": 101, "credit": "5"}, "code does not have a valid value"),
    ("/liabilities/new", {"currency": "usd", "code": 201, "uid": ["x"], "credit": "5"}, "uid is invalid"),
])
def test_create_parameters_are_checked(api, demo, route, data, message):
    response = api.post(route, data)
    assert (response.status_code, response.json()) == (422, {"error": message})
    assert not Operation.objects.exists()


@pytest.mark.parametrize("route, own, foreign", [
    ("/assets/new", [101, 102], [201, 301, 401]),
    ("/expenses/new", [401, 402], [101, 211, 301]),
    ("/revenues/new", [301, 302], [102, 202, 402]),
    ("/liabilities/new", [201, 202, 211, 212], [101, 302, 401]),
])
def test_each_route_takes_only_codes_of_its_type(api, demo, alice, route, own, foreign):
    for code in foreign:
        response = api.post(route, {"currency": "usd", "code": code, "uid": ALICE, "credit": 1})
        assert response.json() == {"error": "code does not have a valid value"}
    for code in own:
        currency = "usd" if code % 2 else "btc"
        response = api.post(route, {"currency": currency, "code": code, "uid": ALICE, "credit": 1})
        assert response.status_code == 201 and response.json()["code"] == str(code)
        assert ("uid" in response.json()) == route.startswith("/liabilities")


def test_expenses_keep_sixteen_fractional_digits(api, demo):
    response = api.post("/expenses/new", {"currency": "usd", "code": 401, "credit": "120"})
    assert response.json()["credit"] == "120.0"
    response = api.post("/expenses/new", {"currency": "eth", "code": 402, "debit": "0.0000000000000001"})
    assert response.status_code == 201
    assert response.json()["debit"] == "0.0000000000000001"
    assert Operation.objects.get(code=402).debit == Decimal("1E-16")


def test_revenue_accounts_may_go_below_zero(api, demo):
    response = api.post("/revenues/new", {"currency": "btc", "code": 302, "credit": 10})
    assert (response.status_code, response.json()["credit"]) == (201, "10.0")
    response = api.post("/revenues/new", {"currency": "usd", "code": 301, "debit": "0.25"})
    assert response.status_code == 201
    assert without_time([response.json()]) == [{"code": "301", "currency": "usd", "debit": "0.25", "reference_type": None}]


def balance(member, currency):
    account = Account.objects.filter(member=member, currency=currency).first()
    return (account.balance, account.locked) if account else (0, 0)


def test_liability_credit_moves_the_member_balance(api, demo, bob, btc):
    response = api.post("/liabilities/new", {"currency": "btc", "code": 202, "uid": BOB, "credit": "0.2515"})

    assert response.status_code == 201
    assert without_time([response.json()]) == [
        {"code": "202", "currency": "btc", "credit": "0.2515", "uid": BOB, "reference_type": None}]
    assert balance(bob, btc) == (Decimal("0.2515"), 0)


def test_liability_debit_beyond_the_balance_is_refused_and_writes_nothing(api, demo, carol, usd):
    fund_member(carol, usd, 100)
    response = api.post("/liabilities/new", {"currency": "usd", "code": 201, "uid": CAROL, "debit": "1000000"})
    assert (response.status_code, response.json()) == (422, {"errors": ["Account balance is insufficient"]})
    assert balance(carol, usd) == (100, 0)
    assert Operation.objects.filter(type="liability").count() == 1


def test_locked_liability_moves_the_locked_amount(api, demo, carol, usd):
    response = api.post("/liabilities/new", {"currency": "usd", "code": 211, "uid": CAROL, "credit": "7"})
    assert response.status_code == 201
    assert balance(carol, usd) == (0, 7)
    response = api.post("/liabilities/new", {"currency": "usd", "code": 211, "uid": CAROL, "debit": "7.5"})
    assert (response.status_code, response.json()) == (422, {"errors": ["Account locked balance is insufficient"]})
    response = api.post("/liabilities/new", {"currency": "usd", "code": 211, "uid": CAROL, "debit": "7"})
    assert response.status_code == 201
    assert balance(carol, usd) == (0, 0)


def test_liability_of_an_unknown_member_is_not_found(api, demo):
    response = api.post("/liabilities/new", {"currency": "usd", "code": 201, "uid": "U000000000", "credit": 1})
    assert (response.status_code, response.json()) == (404, {"error": "Couldn't find record."})
    assert not Operation.objects.exists()


def test_unknown_member_is_answered_before_a_currency_type_mismatch(api, demo):
    response = api.post("/liabilities/new", {"currency": "btc", "code": 201, "uid": "U000000000", "credit": 1})
    assert response.status_code == 404


def test_platform_scope_liability_needs_no_uid(api, demo, token_distribution_account, alice):
    response = api.post("/liabilities/new", {"currency": "btc", "code": "292", "credit": "1000"})
    assert response.status_code == 201
    assert without_time([response.json()]) == [{"code": "292", "currency": "btc", "credit": "1000.0", "reference_type": None}]
    # a uid given with a platform-scope code is ignored: no member on the posting, no balance moved
    response = api.post("/liabilities/new", {"currency": "btc", "code": 292, "uid": ALICE, "debit": "1"})
    assert response.status_code == 201 and "uid" not in response.json()
    assert not Account.objects.exists()
    assert Operation.objects.filter(member__isnull=False).count() == 0
