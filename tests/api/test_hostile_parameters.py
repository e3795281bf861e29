"""Hostile parameter values answer the contract's 422 (or an empty page), never a 500 (management-api.md §1.5)."""

from decimal import Decimal

import pytest

from tests.ledger.conftest import ALICE, alice  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

LISTS = ["deposits", "withdraws", "assets", "expenses", "revenues", "liabilities", "trades"]
INT64_MAX = 2**63 - 1


@pytest.mark.parametrize("text", ["a\u0000b", "\u0000", "\ud800", "x\udfffy"])
def test_a_string_with_nul_or_a_lone_surrogate_is_invalid(api, usd, text):
    response = api.post("deposits/new", {"uid": text, "currency": "usd", "amount": "1"})
    assert (response.status_code, response.json()) == (422, {"error": "uid is invalid"})
    response = api.post("deposits/get", {"tid": text})
    assert (response.status_code, response.json()) == (422, {"error": "tid is invalid"})


def test_unstorable_strings_are_reported_in_declaration_order(api, usd):
    response = api.post("withdraws/new", {"uid": "\ud800", "rid": "a\u0000", "currency": "xyz", "tid": "\u0000"})
    assert response.json() == {"error": "uid is invalid, tid is invalid, rid is invalid, currency does not have a "
                                         "valid value, amount is missing"}


def test_a_nested_unstorable_string_is_named_by_its_path(api, usd, alice):  # noqa: F811
    transfer = {"key": 1, "kind": "k\u0000", "operations": [{
        "currency": "usd", "amount": "1", "account_src": {"code": 201, "uid": "\ud800"}, "account_dst": {"code": 301},
    }]}
    response = api.post("transfers/new", transfer)
    assert response.json() == {"error": "kind is invalid, operations[0][account_src][uid] is invalid"}


@pytest.mark.parametrize("key", ["1" * 5000, "-" + "9" * 4301, "0" * 5000 + "1" * 20, str(2**63), str(-(2**63) - 1),
                                 2**63, Decimal("1e400"), Decimal("1.5")])
def test_an_absurd_or_out_of_range_integer_is_invalid(api, usd, key):
    response = api.post("transfers/new", {"key": key, "kind": "k", "operations": []})
    assert response.json() == {"error": "key is invalid, operations is empty"}


def test_integers_with_leading_zeros_are_read(api, usd):
    response = api.post("revenues", {"page": "0" * 5000 + "1", "limit": "+0010"})
    assert (response.status_code, response.pagination) == (201, {"Total": "0", "Page": "1", "Per-Page": "10"})


@pytest.mark.parametrize("name", ["time_from", "time_to"])
@pytest.mark.parametrize("value", ["9" * 5000, str(2**63), Decimal("1e400")])
def test_time_bounds_beyond_int64_are_invalid(api, name, value):
    response = api.post("liabilities", {name: value})
    assert (response.status_code, response.json()) == (422, {"error": f"{name} is invalid"})


def test_time_bounds_at_the_int64_limits_select_everything_or_nothing(api):
    response = api.post("liabilities", {"time_from": -(2**63), "time_to": INT64_MAX})
    assert (response.status_code, response.json()) == (201, [])


@pytest.mark.parametrize("path", LISTS)
def test_the_last_page_of_int64_is_an_empty_page(api, usd, alice, path):  # noqa: F811
    api.post("deposits/new", {"uid": ALICE, "currency": "usd", "amount": "1", "state": "accepted"})
    for limit in (1, 1000):
        response = api.post(path, {"page": INT64_MAX, "limit": limit})
        assert (response.status_code, response.json()) == (201, [])
        assert response.pagination["Page"] == str(INT64_MAX)


@pytest.mark.parametrize("path", LISTS)
def test_a_page_beyond_int64_is_invalid(api, path):
    response = api.post(path, {"page": 2**63})
    assert (response.status_code, response.json()) == (422, {"error": "page is invalid"})


def test_an_amount_as_a_huge_json_number_is_invalid(api, usd):
    response = api.post("deposits/new", {"uid": ALICE, "currency": "usd", "amount": Decimal("1e400")})
    assert (response.status_code, response.json()) == (422, {"error": "amount is invalid"})
