"""Scopes of the 33 routes (management-api-extensions.md §5.2): every route that writes is under a `write_*` scope,
and a signer permitted only the `read_*` scopes reads everything and writes nothing."""

import pytest

from deposits.models import Deposit
from ledger.models import Member, Operation
from peatio_mgmt.management_api.config import SCOPES
from peatio_mgmt.management_api.views import served_routes
from tests.api_client import PREFIX, keychain_entry, signed_body
from tests.ledger.conftest import ALICE, alice  # noqa: F401  (fixture)
from withdraws.models import Beneficiary, Withdraw

WRITER, AUDITOR = {"backend-1.test": "RS256"}, {"auditor.test": "ES256"}
# What each writing route is asked to do: valid requests that would write if the scope let them through.
WRITES = {
    "deposits/new": {"uid": ALICE, "currency": "usd", "amount": "10", "state": "accepted"},
    "deposits/state": {"tid": "t", "state": "canceled"},
    "withdraws/new": {"uid": ALICE, "currency": "usd", "amount": "1", "rid": "IBAN"},
    "withdraws/action": {"tid": "t", "action": "cancel"},
    "assets/new": {"currency": "usd", "code": 101, "debit": "1"},
    "expenses/new": {"currency": "usd", "code": 401, "debit": "1"},
    "revenues/new": {"currency": "usd", "code": 301, "credit": "1"},
    "liabilities/new": {"currency": "usd", "code": 201, "uid": ALICE, "credit": "1"},
    "transfers/new": {"key": 1, "kind": "k", "operations": [{"currency": "usd", "amount": "1",
                      "account_src": {"code": 101}, "account_dst": {"code": 201, "uid": ALICE}}]},
    "members": {"uid": "U553190244", "email": "dave@example.com"},
    "members/update": {"uid": ALICE, "level": 9},
    "beneficiaries/new": {"uid": ALICE, "currency": "usd", "name": "bank", "rid": "IBAN"},
    "beneficiaries/state": {"id": 1, "uid": ALICE, "state": "archived"},
    "deposit_address/new": {"uid": ALICE, "currency": "eth"},
}


@pytest.fixture
def read_only_auditor(configure):
    """backend-1 signs the write scopes (and tools); auditor.test is permitted and mandatory on the read scopes only."""
    read = sorted(s for s in SCOPES if s.startswith("read_"))
    scopes = {s: {"permitted_signers": ["auditor.test"], "mandatory_signers": ["auditor.test"]} for s in read}
    scopes |= {s: {"permitted_signers": ["backend-1.test"], "mandatory_signers": ["backend-1.test"]}
               for s in sorted(SCOPES) if s not in read}
    return configure({
        "keychain": {kid: keychain_entry(kid, alg) for kid, alg in {**WRITER, **AUDITOR}.items()},
        "jwt": {"verify_iat": True, "leeway": 30},
        "scopes": scopes,
    })


def test_every_writing_route_is_under_a_write_scope_and_every_other_under_a_read_scope():
    routes = served_routes()
    assert len(routes) == 33
    for path, _verb, scope in routes:
        if path == "timestamp":
            assert scope == "tools"
        elif path in WRITES:
            assert scope.startswith("write_"), path
        else:
            assert scope.startswith("read_"), path
    assert {path for path, _, scope in routes if scope.startswith("write_")} == set(WRITES)


@pytest.mark.django_db
def test_a_read_only_signer_reads_and_cannot_write(http, read_only_auditor, usd, alice):  # noqa: F811
    def call(path, data, signers):
        verb = next(v for p, v, _ in served_routes() if p == path)
        return http.generic(verb, PREFIX + path, signed_body(data, signers=signers), content_type="application/json")

    for path, data in WRITES.items():
        assert call(path, data, AUDITOR).status_code == 401, path  # not permitted: its signature is not even tried
    assert (Deposit.objects.count(), Withdraw.objects.count(), Operation.objects.count(), Beneficiary.objects.count()) == (
        0, 0, 0, 0)
    assert Member.objects.get().level == alice.level

    for path, data in {"members/get": {"uid": ALICE}, "currencies/list": {}, "markets/list": {}, "beneficiaries": {},
                       "accounts/balances": {"currency": "usd"}, "deposits": {"from_id": 0}}.items():
        assert call(path, data, AUDITOR).status_code == 201, path
        assert call(path, data, WRITER).status_code == 401, path
    assert call("members/update", {"uid": ALICE, "level": 9}, WRITER).status_code == 200
