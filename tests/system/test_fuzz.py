"""A fuzz of the running server: every route, every parameter, hostile values, properly signed — and garbage.

Every answer must be a 2xx or 4xx with a JSON body: never a 5xx, never a connection dropped without an answer.
Whatever the requests did, the books still balance afterwards (`manage.py check_ledger`).

The data are written as JSON text by `encode` (not json.dumps of the test's own values) so that lone surrogates,
numbers of thousands of digits, 1e400 and nesting deeper than Python's recursion limit reach the server as sent.
"""

from __future__ import annotations

import json
import os
import secrets
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.system.conftest import PREFIX, ROUTES, VERBS, fund

pytestmark = pytest.mark.system

# CI's budget; FUZZ_EXAMPLES=5000 for a longer hunt on a workstation.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "250")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


class Raw:
    """JSON text written as it is (a number no Python value prints, a nesting no encoder survives)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def encode(value) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Decimal):
        return str(value)  # NaN and Infinity come out as bare words: not JSON, the payload fails to verify
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # ensure_ascii: a lone surrogate travels as "\ud800"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
    return "[" + ",".join(encode(v) for v in value) + "]"


def nested(depth: int, opener: str = "[", closer: str = "]", core: str = "1") -> Raw:
    return Raw(opener * depth + core + closer * depth)


SPECIAL_STRINGS = st.sampled_from([
    "\x00", "usd\x00", "\ud800", "a\udfffb", "\x01\x02\x1b[31m\x7f", "\r\n", "x" * 10_000, "Ü" * 3000, "", " ",
    "usd", "USD", "Usd", "btc", "accepted", "process", "cancel", "1e400", "-0", "NaN", "Infinity", "9" * 5000,
    str(2**63), str(2**63 - 1), str(-(2**63) - 1), "0x" + "f" * 40, "%s", "'; DROP TABLE members; --", "\u202e",
])
SPECIAL_NUMBERS = st.sampled_from([
    2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 0, -1, 1, 101, 201, 202, 301, 401,
    Decimal("1e400"), Decimal("-1e400"), Decimal("1e999999999"), Decimal("1e-999999999"), Decimal("-0"),
    Decimal("0.00000000000000001"), Decimal("1234567890123456.1234567890123456"), Decimal("12345678901234567"),
    Decimal("9" * 5000), Decimal("NaN"), Decimal("Infinity"), Raw("-0.0"), Raw("1E+2"), Raw("0.1e1"),
])
SHAPES = st.sampled_from([
    {}, [], [{}], [[]], {"a": {}}, True, False, None, nested(40), nested(2_000), nested(50, '{"a":', "}"),
    Raw("[" + ",".join(["0"] * 50_000) + "]"), Raw("[" + ",".join(["{}"] * 20_000) + "]"),
])
HOSTILE = st.one_of(
    SPECIAL_STRINGS, SPECIAL_NUMBERS, SHAPES,
    st.text(max_size=50), st.integers(), st.decimals(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=5),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)

# Every route's parameters (management-api.md §4), each with a value that passes, so that a hostile value in one
# parameter meets valid ones elsewhere and reaches as deep as it can.
ACCOUNT = {"code": 201, "uid": "<uid>"}


def valid_data(route: str, uid: str) -> dict:
    operation = {"currency": "usd", "amount": "0.01", "account_src": dict(ACCOUNT, uid=uid),
                 "account_dst": {"code": 201, "uid": uid}}
    lists = {"page": 1, "limit": 5}
    journal = {"currency": "usd", **lists, "time_from": 0, "time_to": 2**40, "reference_type": "deposit"}
    return {
        "accounts/balance": {"uid": uid, "currency": "usd"},
        "deposits": {"uid": uid, "currency": "usd", **lists, "state": "accepted"},
        "deposits/get": {"tid": "TID0000000000"},
        "deposits/new": {"uid": uid, "tid": f"F{secrets.token_hex(6)}", "currency": "usd", "amount": "1.5",
                         "state": "accepted"},
        "deposits/state": {"tid": "TID0000000000", "state": "canceled"},
        "withdraws": {"uid": uid, "currency": "usd", **lists, "state": "submitted"},
        "withdraws/get": {"tid": "TID0000000000"},
        "withdraws/new": {"uid": uid, "tid": f"F{secrets.token_hex(6)}", "rid": BTC_ADDRESS, "currency": "btc",
                          "amount": "0.001", "action": "process"},
        "withdraws/action": {"tid": "TID0000000000", "action": "cancel"},
        "timestamp": {},
        "assets": journal, "expenses": journal, "revenues": journal,
        "liabilities": {**journal, "uid": uid},
        "assets/new": {"currency": "usd", "code": 101, "debit": "0.01"},
        "expenses/new": {"currency": "usd", "code": 401, "debit": "0.01"},
        "revenues/new": {"currency": "usd", "code": 301, "credit": "0.01"},
        "liabilities/new": {"currency": "usd", "code": 201, "uid": uid, "credit": "0.01"},
        "transfers/new": {"key": secrets.randbits(62), "kind": "fuzz", "desc": "fuzz", "operations": [operation]},
        "trades": {"uid": uid, "market": "btcusd", **lists},
    }[route]


# Nested parameters of /transfers/new, as paths into the data.
NESTED = [("operations", 0, "currency"), ("operations", 0, "amount"), ("operations", 0, "account_src"),
          ("operations", 0, "account_src", "code"), ("operations", 0, "account_src", "uid"),
          ("operations", 0, "account_dst"), ("operations", 0, "account_dst", "code"),
          ("operations", 0, "account_dst", "uid")]


def assert_answered(answer, what) -> None:
    assert 200 <= answer.status < 500, (what, answer.status, answer.body[:300])
    assert answer.headers.get("Content-Type") == "application/json", (what, answer.headers)
    json.loads(answer.body)


@pytest.fixture(scope="module")
def fuzz_member(running_system):
    uid = running_system.new_member()
    fund(running_system, uid, "usd", "1000")
    fund(running_system, uid, "btc", "1")
    return uid


@pytest.fixture(scope="module", autouse=True)
def books_balance_after_the_fuzz(running_system):
    yield
    running_system.check_ledger()


# The tests take the running system as a fixture and run hypothesis inside: a failing example is printed without
# the system's environment.


def test_hostile_parameter_values_are_answered(running_system, fuzz_member):
    @FUZZ
    @given(route=st.sampled_from(ROUTES), data=st.data())
    def fuzz(route, data):
        send_hostile_parameters(running_system, fuzz_member, route, data)

    fuzz()


def send_hostile_parameters(running_system, fuzz_member, route, data):
    values = valid_data(route, fuzz_member)
    names = list(values) + ["unknown"] + (["<path>"] if route == "transfers/new" else [])
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True), label="names")
    # A nested value first: a hostile `operations` drawn with it then replaces the whole array.
    for name in sorted(chosen, key=lambda name: name != "<path>"):
        hostile = data.draw(HOSTILE, label=name)
        if name == "<path>":
            *parents, leaf = data.draw(st.sampled_from(NESTED), label="path")
            target = values
            for key in parents:
                target = target[key]
            target[leaf] = hostile
        else:
            values[name] = hostile
    answer = running_system.send_data_text(route, encode(values))
    assert_answered(answer, (route, values))


def test_hostile_data_claim_is_answered(running_system):
    @FUZZ
    @given(route=st.sampled_from(ROUTES),
           data=st.one_of(HOSTILE, st.dictionaries(st.text(max_size=8), HOSTILE, max_size=4)))
    def fuzz(route, data):
        assert_answered(running_system.send_data_text(route, encode(data)), (route, data))

    fuzz()


SIGNATURE_PARTS = st.one_of(SPECIAL_STRINGS, SHAPES, st.text(max_size=20), st.sampled_from(["eyJhbGciOiJub25lIn0",
                            "eyJhbGciOiJSUzI1NiIsImNyaXQiOlsiZXhwIl19", "e30", "=" * 50, "x" * 100_000]))


def test_hostile_token_parts_are_answered(running_system):
    genuine = json.loads(running_system.signed_body({}))

    @settings(FUZZ, max_examples=100)
    @given(route=st.sampled_from(ROUTES), protected=SIGNATURE_PARTS,
           kid=st.one_of(SIGNATURE_PARTS, st.just("backend-1.dev")), signature=SIGNATURE_PARTS,
           copies=st.sampled_from([0, 1, 2, 16, 17, 5000]), payload=SIGNATURE_PARTS)
    def fuzz(route, protected, kid, signature, copies, payload):
        body = {"payload": genuine["payload"] if payload == "e30" else payload,
                "signatures": [{"protected": protected, "header": {"kid": kid}, "signature": signature}] * copies}
        answer = running_system.request(VERBS.get(route, "POST"), PREFIX + route, encode(body).encode())
        assert_answered(answer, (route, body))
        assert answer.status in (400, 401, 413), answer.body

    fuzz()


@pytest.mark.parametrize("body", [
    b"", b"null", b"[]", b"{}", b"\xff\xfe{}", b'{"payload":"\xed\xa0\x80","signatures":[]}', b"\x00" * 100,
    b"[" * 900_000, b'{"a":' * 200_000, b"[" * 1000 + b"]" * 1000, b'{"payload":"e30","signatures":' + b"[" * 100_000,
    b'{"payload":"e30","signatures":[' + b"{}," * 300_000 + b"{}]}", b'{"payload":' + b"1" * 1_000_000 + b"}",
    b'{"payload":"e30","signatures":[],"payload":NaN}', b'{"payload":1e999999999,"signatures":[]}',
])
def test_garbage_bodies_are_answered(running_system, body):
    answer = running_system.request("POST", PREFIX + "deposits", body)
    assert_answered(answer, body[:50])
    assert answer.status in (400, 401, 413)


def test_a_body_above_one_mebibyte_is_refused_before_it_is_read(running_system):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", running_system.port, timeout=30)
    try:
        conn.putrequest("POST", PREFIX + "deposits")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(64 * 1024 * 1024))
        conn.endheaders(b'{"payload":"' + b"A" * 65536)
        answer = conn.getresponse()
        assert (answer.status, json.loads(answer.read())) == (413, {"error": "Request body is too large."})
    finally:
        conn.close()


def chunked_post(running_system, path: str, pieces: list[bytes]):
    """POST with `Transfer-Encoding: chunked` and no Content-Length, as a client streaming its body sends it."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", running_system.port, timeout=30)
    try:
        conn.request("POST", path, body=iter(pieces), headers={"Content-Type": "application/json"}, encode_chunked=True)
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_a_chunked_body_is_read_as_one_with_a_content_length(running_system):
    body = running_system.signed_body({})
    status, answer = chunked_post(running_system, PREFIX + "timestamp", [body[:100], body[100:101], body[101:]])
    assert status == 201
    assert set(answer) == {"timestamp"}


def test_a_chunked_body_above_one_mebibyte_is_refused(running_system):
    status, answer = chunked_post(running_system, PREFIX + "timestamp", [b'{"payload":"' + b"A" * 65536] * 20)
    assert (status, answer) == (413, {"error": "Request body is too large."})


@pytest.mark.parametrize("path", ["%00", "deposits%00", "%ED%A0%80", "%FF", "deposits/%2e%2e/withdraws", "x" * 3000,
                                  "deposits;a=b", "deposits%0d%0aX-Injected:%201", "deposits%0a", "%0a%0a"])
def test_odd_paths_under_the_prefix_are_answered(running_system, path):
    answer = running_system.request("POST", PREFIX + path, running_system.signed_body({}))
    assert_answered(answer, path)
    assert (answer.status, answer.json()) == (404, {"error": "Not found."})
    assert "X-Injected" not in answer.headers


def test_a_request_line_beyond_gunicorns_limit_is_refused_by_gunicorn(running_system):
    # gunicorn answers it (414, its own page) before the application sees it: a refusal, not a dropped connection
    assert running_system.request("POST", PREFIX + "x" * 5000, b"{}").status == 414
