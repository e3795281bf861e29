"""POST /accounts/balance (§4.1) through the gate."""

from decimal import Decimal

import pytest

from ledger.models import Account, Operation
from tests.factories import CoinFactory, MemberFactory, fund_member

pytestmark = pytest.mark.django_db


def test_balance_of_a_funded_member(api, member, usd):
    fund_member(member, usd, Decimal("1000.85"))
    response = api.post("/accounts/balance", {"uid": member.uid, "currency": "usd"})
    assert response.status_code == 201
    assert response.json() == {"uid": member.uid, "balance": "1000.85", "locked": "0.0"}
    assert response.headers["Content-Type"] == "application/json"


def test_balance_amounts_are_plain_decimal_strings(api, member, btc):
    fund_member(member, btc, Decimal("0.0000000123456789"))
    body = api.post("/accounts/balance", {"uid": member.uid, "currency": "btc"}).json()
    assert body["balance"] == "0.0000000123456789"


def test_uid_matches_ignoring_case_and_answers_the_stored_uid(api, usd):
    MemberFactory(uid="U487205863")
    body = api.post("/accounts/balance", {"uid": "u487205863", "currency": "usd"}).json()
    assert body["uid"] == "U487205863"


def test_uppercase_currency_is_accepted(api, member, usd):
    fund_member(member, usd, 5)
    assert api.post("/accounts/balance", {"uid": member.uid, "currency": "USD"}).json()["balance"] == "5.0"


def test_member_without_account_reads_zero_and_nothing_is_written(api, member, usd):
    response = api.post("/accounts/balance", {"uid": member.uid, "currency": "usd"})
    assert (response.status_code, response.json()) == (201, {"uid": member.uid, "balance": "0.0", "locked": "0.0"})
    assert not Account.objects.exists() and not Operation.objects.exists()


def test_disabled_currency_is_still_readable(api, member):
    CoinFactory(id="eth", name="Ether", enabled=False)
    assert api.post("/accounts/balance", {"uid": member.uid, "currency": "ETH"}).status_code == 201


def test_unknown_uid_is_not_found(api, usd):
    response = api.post("/accounts/balance", {"uid": "U000000000", "currency": "usd"})
    assert (response.status_code, response.json()) == (404, {"error": "Couldn't find record."})


@pytest.mark.parametrize(("data", "message"), [
    ({}, "uid is missing, currency is missing"),
    ({"uid": "U1", "currency": "xyz"}, "currency does not have a valid value"),
    ({"currency": "xyz"}, "uid is missing, currency does not have a valid value"),
    ({"uid": "U1", "currency": "Usd"}, "currency does not have a valid value"),
    ({"uid": ["U1"], "currency": "usd"}, "uid is invalid"),
])
def test_invalid_parameters(api, usd, data, message):
    response = api.post("/accounts/balance", data)
    assert (response.status_code, response.json()) == (422, {"error": message})

