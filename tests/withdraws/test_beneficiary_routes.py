"""POST /beneficiaries/new, POST /beneficiaries, PUT /beneficiaries/state and /withdraws/new with beneficiary_id over
HTTP (management-api-extensions.md §5.4, §5.5, §7.10–7.13)."""

import json
from decimal import Decimal

import pytest

from tests.deposits.test_deposit_routes import run_threads
from tests.factories import CoinFactory, fund_member
from tests.ledger.conftest import ALICE, BOB, alice, bob, eth  # noqa: F401  (fixtures)
from withdraws.models import Beneficiary, Withdraw

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
COLD = {"uid": BOB, "currency": "btc", "name": "Cold storage", "rid": BTC_ADDRESS, "description": "Hardware wallet"}
BANK = {"uid": ALICE, "currency": "USD", "name": "Main bank account", "rid": "DE89370400440532013000",
        "data": {"full_name": "Alice Example", "bank_name": "Commerzbank", "bic": "COBADEFFXXX"}, "state": "active"}


@pytest.fixture
def members(alice, bob, usd, btc):  # noqa: F811
    """Alice and Bob, usd and btc."""


def test_create_answers_the_beneficiary_and_a_retry_answers_it_again(api, members):
    created = api.post("beneficiaries/new", COLD)
    assert created.status_code == 201
    body = created.json()
    assert list(body) == ["id", "uid", "currency", "name", "description", "rid", "data", "state", "created_at",
                          "updated_at"]
    assert {k: body[k] for k in ("uid", "currency", "name", "description", "rid", "data", "state")} == {
        "uid": BOB, "currency": "btc", "name": "Cold storage", "description": "Hardware wallet", "rid": BTC_ADDRESS,
        "data": {}, "state": "pending"}
    again = api.post("beneficiaries/new", COLD)
    assert (again.status_code, again.json()) == (201, body)
    # Compared by digest: still a retry after activation.
    api.put("beneficiaries/state", {"id": body["id"], "uid": BOB, "state": "active"})
    assert api.post("beneficiaries/new", COLD).json()["id"] == body["id"]
    assert Beneficiary.objects.count() == 1


def number_texts(content: bytes) -> dict:
    """The answer's (or the list's one) `data`, every number as the text it was written with."""
    body = json.loads(content, parse_float=lambda text: text, parse_int=lambda text: text)
    return (body[0] if isinstance(body, list) else body)["data"]


def test_fiat_beneficiary_keeps_its_data_with_exactly_its_numbers(api, members):
    numbers = {"fee": Decimal("1.50"), "n": 12, "digits": Decimal("12345678901234567890.123456789"),
               "no_double_holds_it": Decimal("0.10000000000000000001"), "exponent": Decimal("1E+2"),
               "negative_zero": Decimal("-0.0"), "huge": Decimal("1E+400"), "nested": [Decimal("0.1"), {"x": 7}]}
    written = {"fee": "1.50", "n": "12", "digits": "12345678901234567890.123456789",
               "no_double_holds_it": "0.10000000000000000001", "exponent": "100", "negative_zero": "0.0",
               "huge": "1" + "0" * 400, "nested": ["0.1", {"x": "7"}]}

    answer = api.post("beneficiaries/new", {**BANK, "data": {**BANK["data"], **numbers}})

    assert answer.status_code == 201
    assert number_texts(answer.content) == {**BANK["data"], **written}
    # read back from jsonb: the same digits
    assert number_texts(api.post("beneficiaries", {"uid": ALICE}).content) == {**BANK["data"], **written}
    assert (answer.json()["currency"], answer.json()["state"], answer.json()["description"]) == ("usd", "active", None)


@pytest.mark.parametrize("number", [Decimal("1E+131072"), Decimal("1E-16384")])
def test_a_number_postgresql_cannot_hold_in_data_is_refused(api, members, number):
    assert api.post("beneficiaries/new", {**BANK, "data": {"x": number}}).json() == {"error": "data is invalid"}
    assert not Beneficiary.objects.exists()


def test_coin_destination_from_data_address(api, alice, eth):  # noqa: F811
    answer = api.post("beneficiaries/new", {"uid": ALICE, "currency": "eth", "name": "Ledger", "data": {"address": ETH_ADDRESS}})
    assert answer.status_code == 201 and answer.json()["rid"] == ETH_ADDRESS and answer.json()["state"] == "pending"


def test_conflicts_and_business_messages_in_order(api, members):
    api.post("beneficiaries/new", COLD)
    assert api.post("beneficiaries/new", {**COLD, "name": "Exchange account", "description": None}).json() == {
        "errors": ["Rid has already been taken"]}
    assert api.post("beneficiaries/new", {"uid": "U999999999", "currency": "btc", "name": "", "rid": "not-an-address"}).json() == {
        "errors": ["Member must exist", "Name can't be blank", "Rid is invalid"]}
    assert api.post("beneficiaries/new", {"uid": BOB, "currency": "btc", "name": "n" * 65, "description": "d" * 256,
                                          "data": {"k": "v" * 4100}}).json() == {"errors": [
        "Name is too long (maximum is 64 characters)", "Description is too long (maximum is 255 characters)",
        "Rid can't be blank", "Data is too long (maximum is 4096 characters)"]}
    assert api.post("beneficiaries/new", {"uid": BOB, "currency": "btc", "name": "x", "rid": "r" * 96}).json() == {
        "errors": ["Rid is too long (maximum is 95 characters)"]}
    CoinFactory(id="ltc", enabled=False, address_format=None)
    assert api.post("beneficiaries/new", {"uid": BOB, "currency": "ltc", "name": "x", "rid": "L1"}).json() == {
        "errors": ["Currency is disabled"]}


def test_create_parameter_messages_in_order(api, members):
    assert api.post("beneficiaries/new", {"uid": BOB, "currency": "btc", "data": "bc1q...", "state": "archived"}).json() == {
        "error": "name is missing, data is invalid, state does not have a valid value"}
    assert api.post("beneficiaries/new", {}).json() == {"error": "uid is missing, currency is missing, name is missing"}


def test_archive_frees_the_rid_and_a_retry_after_it_creates_anew(api, members):
    first = api.post("beneficiaries/new", COLD).json()
    archived = api.put("beneficiaries/state", {"id": first["id"], "uid": BOB, "state": "archived"})
    assert archived.status_code == 200 and archived.json()["state"] == "archived"
    second = api.post("beneficiaries/new", COLD)
    assert second.status_code == 201 and second.json()["id"] != first["id"]


def test_state_changes(api, members):
    created = api.post("beneficiaries/new", COLD).json()
    activated = api.put("beneficiaries/state", {"id": created["id"], "uid": BOB.lower(), "state": "active"})
    assert activated.status_code == 200 and activated.json()["state"] == "active"
    again = api.put("beneficiaries/state", {"id": created["id"], "uid": BOB, "state": "active"})
    assert (again.status_code, again.json()) == (200, activated.json())
    assert api.put("beneficiaries/state", {"id": created["id"], "uid": ALICE, "state": "archived"}).json() == {
        "error": "Couldn't find record."}
    assert api.put("beneficiaries/state", {"id": created["id"], "uid": BOB, "state": "archived"}).status_code == 200
    assert api.put("beneficiaries/state", {"id": created["id"], "uid": BOB, "state": "active"}).json() == {
        "errors": ["Cannot activate beneficiary in state archived"]}
    assert api.put("beneficiaries/state", {"id": "41a", "uid": BOB, "state": "pending"}).json() == {
        "error": "id is invalid, state does not have a valid value"}
    assert api.put("beneficiaries/state", {}).json() == {"error": "id is missing, uid is missing, state is missing"}


def test_list_filters_and_pages_newest_first(api, members):
    cold = api.post("beneficiaries/new", COLD).json()
    bank = api.post("beneficiaries/new", BANK).json()
    everyone = api.post("beneficiaries", {})
    assert [b["id"] for b in everyone.json()] == [bank["id"], cold["id"]]
    assert everyone.pagination == {"Total": "2", "Page": "1", "Per-Page": "100"}
    assert api.post("beneficiaries", {"uid": BOB, "state": "pending"}).json() == [cold]
    assert api.post("beneficiaries", {"uid": "", "currency": "usd"}).json() == [bank]
    assert api.post("beneficiaries", {"state": "archived"}).json() == []
    assert api.post("beneficiaries", {"uid": "U000000000"}).status_code == 404
    assert api.post("beneficiaries", {"state": "deleted", "limit": 0}).json() == {
        "error": "state does not have a valid value, limit must be in range: 1..1000."}


# --- /withdraws/new with beneficiary_id ---------------------------------------------------------------------------


def test_withdraw_to_an_active_beneficiary(api, members, bob):  # noqa: F811
    from ledger.models import Currency

    fund_member(bob, Currency.objects.get(pk="btc"), "1")
    beneficiary = api.post("beneficiaries/new", {**COLD, "state": "active"}).json()
    request = {"uid": BOB, "currency": "btc", "amount": "0.05", "beneficiary_id": beneficiary["id"], "tid": "bob-out-77"}
    paid = api.post("withdraws/new", request)
    assert paid.status_code == 201
    assert (paid.json()["rid"], paid.json()["beneficiary_id"], paid.json()["amount"]) == (BTC_ADDRESS, beneficiary["id"], "0.0499")
    # A retry is recognised before every check, even after the archive.
    api.put("beneficiaries/state", {"id": beneficiary["id"], "uid": BOB, "state": "archived"})
    assert api.post("withdraws/new", request).json() == paid.json()
    # The digest includes beneficiary_id: the same tid with a rid is another request.
    assert api.post("withdraws/new", {**request, "beneficiary_id": None, "rid": BTC_ADDRESS}).json() == {
        "errors": ["Tid has already been taken"]}
    assert api.post("withdraws/new", {**request, "tid": "bob-out-78"}).json() == {"errors": ["Beneficiary is not active"]}
    assert Withdraw.objects.count() == 1


def test_withdraw_beneficiary_messages(api, members):
    bank = api.post("beneficiaries/new", BANK).json()
    cold = api.post("beneficiaries/new", COLD).json()
    assert api.post("withdraws/new", {"uid": ALICE, "currency": "btc", "amount": "0.05", "beneficiary_id": cold["id"]}).json() == {
        "errors": ["Beneficiary must exist"]}
    assert api.post("withdraws/new", {"uid": ALICE, "currency": "btc", "amount": "0.5", "beneficiary_id": bank["id"]}).json() == {
        "errors": ["Beneficiary currency and withdraw currency don't match"]}
    assert api.post("withdraws/new", {"uid": BOB, "currency": "btc", "amount": "0.05", "beneficiary_id": cold["id"]}).json() == {
        "errors": ["Beneficiary is not active"]}
    assert api.post("withdraws/new", {"uid": BOB, "currency": "btc", "amount": "0.05", "rid": "", "beneficiary_id": cold["id"]}).json() == {
        "error": "rid, beneficiary_id are mutually exclusive"}
    assert api.post("withdraws/new", {"uid": BOB, "currency": "btc", "amount": "0.05"}).json() == {
        "error": "rid, beneficiary_id are missing, exactly one parameter must be provided"}
    assert api.post("withdraws/new", {"uid": BOB, "currency": "btc", "amount": "0.05", "beneficiary_id": "x"}).json() == {
        "error": "beneficiary_id is invalid"}


# --- concurrency --------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_creations_make_one_beneficiary_and_answer_alike(api, members):
    answers = run_threads(20, lambda i: api.post("beneficiaries/new", COLD))
    assert {a.status_code for a in answers} == {201}
    assert len({a.content for a in answers}) == 1
    assert Beneficiary.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_with_one_rid_and_other_names_create_one(api, members):
    answers = run_threads(10, lambda i: api.post("beneficiaries/new", {**COLD, "name": f"wallet {i}"}))
    assert sorted(a.status_code for a in answers) == [201] + [422] * 9
    assert all(a.json() == {"errors": ["Rid has already been taken"]} for a in answers if a.status_code == 422)
    assert Beneficiary.objects.count() == 1
