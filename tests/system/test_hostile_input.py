"""Hostile input through the running server: every answer is the contract's 4xx, never a 500 or a lost worker.

The data go out as raw JSON text (`send_data_text`) so that values no encoder writes — lone surrogates, numbers of
thousands of digits, 1e400 — reach the server exactly as an attacker would send them.
"""

from __future__ import annotations

import pytest

from tests.system.conftest import LISTS, PREFIX

pytestmark = pytest.mark.system

INT64_MAX = 2**63 - 1
NUL, SURROGATE = r'"\u0000"', r'"\ud800"'
OPERATION = '{"currency":"usd","amount":"1","account_src":{"code":101},"account_dst":{"code":301}}'


def error_of(answer) -> tuple[int, str]:
    assert answer.headers["Content-Type"] == "application/json", answer.body
    return answer.status, answer.json()["error"]


@pytest.mark.parametrize(("route", "data", "message"), [
    ("accounts/balance", f'{{"uid":{NUL},"currency":"usd"}}', "uid is invalid"),
    ("accounts/balance", f'{{"uid":{NUL},"currency":{SURROGATE}}}', "uid is invalid, currency is invalid"),
    ("deposits", f'{{"uid":{SURROGATE},"state":{NUL}}}', "uid is invalid, state is invalid"),
    ("deposits/get", f'{{"tid":{SURROGATE}}}', "tid is invalid"),
    ("deposits/get", r'{"tid":"TID\u0000"}', "tid is invalid"),
    ("deposits/new", f'{{"uid":"U1","tid":{NUL},"currency":"usd","amount":"1"}}', "tid is invalid"),
    ("deposits/state", f'{{"tid":{NUL},"state":"accepted"}}', "tid is invalid"),
    ("withdraws", f'{{"uid":{NUL}}}', "uid is invalid"),
    ("withdraws/get", r'{"tid":"\udfff"}', "tid is invalid"),
    ("withdraws/new", f'{{"uid":"U1","rid":{NUL},"currency":"usd","amount":"1"}}', "rid is invalid"),
    ("withdraws/action", f'{{"tid":{SURROGATE},"action":"cancel"}}', "tid is invalid"),
    ("assets", f'{{"reference_type":{NUL}}}', "reference_type is invalid"),
    ("liabilities", f'{{"uid":{NUL},"reference_type":{SURROGATE}}}', "uid is invalid, reference_type is invalid"),
    ("liabilities/new", f'{{"currency":"usd","code":201,"uid":{NUL},"debit":"1"}}', "uid is invalid"),
    ("transfers/new", f'{{"key":1,"kind":{NUL},"desc":{SURROGATE},"operations":[{OPERATION}]}}',
     "kind is invalid, desc is invalid"),
    ("transfers/new",
     f'{{"key":1,"kind":"k","operations":[{{"currency":"usd","amount":"1","account_src":{{"code":201,"uid":{NUL}}},'
     f'"account_dst":{{"code":301}}}}]}}', "operations[0][account_src][uid] is invalid"),
    ("trades", f'{{"market":{NUL}}}', "market is invalid"),
])
def test_text_postgresql_cannot_store_is_an_invalid_parameter(system, route, data, message):
    assert error_of(system.send_data_text(route, data)) == (422, message)


@pytest.mark.parametrize("digits", ["9" * 5000, "-" + "1" * 4301, "1" + "0" * 19])
@pytest.mark.parametrize(("route", "name"), [
    *((route, "page") for route in LISTS), *((route, "limit") for route in LISTS),
    ("liabilities", "time_from"), ("assets", "time_to"), ("transfers/new", "key"), ("assets/new", "code"),
])
def test_integer_of_thousands_of_digits_is_invalid_as_string_and_as_number(system, route, name, digits):
    for text in (f'"{digits}"', digits):
        status, message = error_of(system.send_data_text(route, f'{{"{name}":{text}}}'))
        assert status == 422 and f"{name} is invalid" in message.split(", "), (text[:20], message)


@pytest.mark.parametrize("value", ["9223372036854775808", "-9223372036854775809", "1e400", '"1e400"', "1.0", "1e2"])
def test_integer_beyond_int64_or_not_an_integer_is_invalid(system, value):
    assert error_of(system.send_data_text("deposits", f'{{"page":{value}}}')) == (422, "page is invalid")


@pytest.mark.parametrize("route", LISTS)
def test_the_largest_page_is_an_empty_page_with_any_limit(system, route):
    largest_limit = 10000 if route == "liabilities" else 1000
    for limit in (1, 100, largest_limit):
        answer = system.post(route, {"page": INT64_MAX, "limit": limit})
        assert answer.status == 201, answer.body
        assert answer.json() == []
        assert (answer.headers["Page"], answer.headers["Per-Page"]) == (str(INT64_MAX), str(limit))
        assert int(answer.headers["Total"]) >= 0


@pytest.mark.parametrize(("route", "data", "message"), [
    ("deposits/new", '{"uid":"U1","currency":"usd","amount":1e400}', "amount is invalid"),
    ("deposits/new", '{"uid":"U1","currency":"usd","amount":1e999999999}', "amount is invalid"),
    ("deposits/new", '{"uid":"U1","currency":"usd","amount":"-1e-999999999"}', "amount is invalid"),
    ("withdraws/new", '{"uid":"U1","rid":"r","currency":"usd","amount":"1e999999999"}', "amount is invalid"),
    ("assets/new", '{"currency":"usd","code":101,"debit":-0}', "debit does not have a valid value"),
    ("assets/new", '{"currency":"usd","code":101,"credit":"-0.0"}', "credit does not have a valid value"),
    ("transfers/new", '{"key":1e400,"kind":"k","operations":[]}', "key is invalid, operations is empty"),
])
def test_numbers_no_column_can_hold_are_invalid(system, route, data, message):
    assert error_of(system.send_data_text(route, data)) == (422, message)


def test_deep_nesting_in_the_payload_is_refused_without_losing_the_worker(system):
    for depth in (100_000, 1_000, 100):
        answer = system.send_data_text("deposits/get", '{"tid":' + "[" * depth + "]" * depth + "}")
        assert error_of(answer) == (401, "Failed to verify JWT.")
    assert system.post("timestamp", {}).status == 201


def test_deep_nesting_in_the_body_is_refused_without_losing_the_worker(system):
    for depth in (500_000, 1_000, 100):
        body = b'{"payload":"e30","signatures":[],"x":' + b"[" * depth + b"]" * depth + b"}"
        assert error_of(system.request("POST", PREFIX + "timestamp", body)) == (400, "Couldn't parse JWT.")
    assert system.post("timestamp", {}).status == 201


@pytest.mark.parametrize("claims", [b'{"data":NaN}', b'{"data":{"page":Infinity}}', b'{"exp":-Infinity}',
                                    b'{"data":{"tid":"\xed\xa0\x80"}}', b'{"data":{"tid":"\xff"}}'])
def test_payload_that_is_not_json_or_not_utf8_fails_verification(system, claims):
    assert error_of(system.request("POST", PREFIX + "deposits/get", system.signed_claims(claims))) == (
        401, "Failed to verify JWT.")


def test_claims_with_absurd_numbers_are_answered(system):
    claims = b'{"exp":1e999999999,"iat":-1e999999999,"nbf":' + b"1" * 5000 + b',"jti":' + b"7" * 5000 + b',"data":{}}'
    answer = system.request("POST", PREFIX + "timestamp", system.signed_claims(claims))
    assert answer.status in (201, 401), answer.body


def test_a_huge_operations_array_is_answered(system):
    count = 8_000
    operations = ",".join([OPERATION] * count)
    answer = system.send_data_text("transfers/new", f'{{"key":{count},"kind":"huge","operations":[{operations}]}}')
    assert answer.status in (201, 413, 422), answer.body[:300]
    system.check_ledger()


def test_duplicate_keys_are_answered(system):
    answer = system.send_data_text("deposits/get", '{"tid":"a","tid":{"x":1},"tid":"b"}')
    assert answer.status in (404, 422), answer.body
