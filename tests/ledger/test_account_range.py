"""An event that would take a member account to 16 integer digits or more is refused with a 422 and writes nothing:
the accounts' NUMERIC(32,16) columns cannot hold it (before, the database's overflow error answered 500)."""

from decimal import Decimal

import pytest

from ledger.models import Account, Operation
from ledger.postgres_events import ACCOUNT_TOO_LARGE
from tests.ledger.conftest import ALICE, BOB

pytestmark = pytest.mark.django_db
LARGEST = "9999999999999999"  # the largest whole amount a parameter may carry


def _balance(uid: str) -> Decimal:
    account = Account.objects.filter(member__uid=uid, currency="usd").first()
    return account.balance if account else Decimal(0)


@pytest.mark.parametrize("route, params", [
    ("/liabilities/new", {"currency": "usd", "code": 201, "uid": ALICE, "credit": LARGEST}),
    ("/deposits/new", {"currency": "usd", "uid": ALICE, "amount": LARGEST, "state": "accepted"}),
    ("/transfers/new", {"key": 7, "kind": "move", "operations": [
        {"currency": "usd", "amount": LARGEST, "account_src": {"code": 201, "uid": BOB},
         "account_dst": {"code": 201, "uid": ALICE}}]}),
])
def test_an_event_beyond_16_integer_digits_is_refused_and_writes_nothing(api, usd, alice, bob, route, params):
    assert api.post("/liabilities/new", {"currency": "usd", "code": 201, "uid": ALICE, "credit": "1"}).status_code == 201
    assert api.post("/liabilities/new", {"currency": "usd", "code": 201, "uid": BOB, "credit": LARGEST}).status_code == 201
    postings = Operation.objects.count()

    response = api.post(route, params)

    assert (response.status_code, response.json()) == (422, {"errors": [ACCOUNT_TOO_LARGE]})
    assert (_balance(ALICE), _balance(BOB), Operation.objects.count()) == (Decimal(1), Decimal(LARGEST), postings)
