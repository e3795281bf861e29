"""`from_id` on the seven lists over HTTP (management-api-extensions.md §5.3, §7.2): the ascending feed with its
headers and messages, and the sync guarantee through the routes — a writer still open withholds the rows committed
after it, whichever route wrote them."""

from decimal import Decimal

import pytest
from django.db import connection

from deposits.models import Deposit
from ledger import services as ledger
from ledger.models import ChartAccount, Operation
from tests.factories import MemberFactory
from tests.ledger.conftest import ALICE, alice, bob, carol, eth  # noqa: F401  (fixtures)
from tests.sync.conftest import OpenTransaction, insert_deposit_sql
from tests.trades.conftest import trades  # noqa: F401  (fixture)
from trades.models import Trade
from withdraws.models import Withdraw

# Committed rows only: a test's own open transaction would hold the settled id below everything it wrote.
pytestmark = pytest.mark.django_db(transaction=True)

def ids(response):
    assert response.status_code == 201, response.json()
    return [int(row["id"]) for row in response.json()]


def headers(response):
    return tuple(int(response.headers[name]) for name in ("Total", "Page", "Per-Page"))


# --- the seven lists ---------------------------------------------------------------------------------------------


@pytest.fixture
def rows(api, alice, usd, btc, chart, trades):  # noqa: F811
    """Three rows of each list, written through the routes (trades by the fixture: ids 1..3)."""
    with connection.cursor() as cursor:
        # The fixture numbers its trades explicitly, past the sequence (outside the guarantee, §5.3): a real import
        # leaves the sequence behind too, and the next insert would draw 1. Move it past them, as a migration would.
        cursor.execute("SELECT setval(pg_get_serial_sequence('trades', 'id'), (SELECT MAX(id) FROM trades))")
    for amount in ("100", "200", "300"):
        assert api.post("deposits/new", {"uid": ALICE, "currency": "usd", "amount": amount, "state": "accepted"}).status_code == 201
    for rid in ("IBAN-1", "IBAN-2", "IBAN-3"):
        assert api.post("withdraws/new", {"uid": ALICE, "currency": "usd", "amount": "10", "rid": rid}).status_code == 201
    for journal, code, side in (("assets", 101, "debit"), ("expenses", 401, "debit"), ("revenues", 301, "credit")):
        for amount in ("1", "2", "3"):
            assert api.post(f"{journal}/new", {"currency": "usd", "code": code, side: amount}).status_code == 201


def operation_ids(type_):
    return lambda: list(Operation.objects.filter(type=type_).order_by("id").values_list("id", flat=True))


LISTS = {
    "deposits": lambda: list(Deposit.objects.order_by("id").values_list("id", flat=True)),
    "withdraws": lambda: list(Withdraw.objects.order_by("id").values_list("id", flat=True)),
    "trades": lambda: list(Trade.objects.filter(market_id="btcusd").order_by("id").values_list("id", flat=True)),
    "assets": operation_ids("asset"),
    "expenses": operation_ids("expense"),
    "revenues": operation_ids("revenue"),
    "liabilities": operation_ids("liability"),
}


def filters_of(route):
    return {"market": "btcusd"} if route == "trades" else {}


@pytest.mark.parametrize("route", list(LISTS))
def test_from_id_answers_the_rows_above_it_ascending_with_the_headers(api, rows, route):
    stored = LISTS[route]()
    assert len(stored) >= 2
    extra = filters_of(route)

    first = api.post(route, {**extra, "from_id": 0, "limit": 1})
    assert ids(first) == stored[:1] and headers(first) == (len(stored), 1, 1)
    second = api.post(route, {**extra, "from_id": 0, "limit": 1, "page": 2})
    assert ids(second) == stored[1:2] and headers(second) == (len(stored), 2, 1)
    rest = api.post(route, {**extra, "from_id": stored[0]})
    assert ids(rest) == stored[1:] and headers(rest) == (len(stored) - 1, 1, 100)
    # A trade id is a string of digits on the wire; from_id takes it as sent.
    assert ids(api.post(route, {**extra, "from_id": str(stored[0])})) == stored[1:]

    for beyond in (stored[-1], 99_999_999):
        empty = api.post(route, {**extra, "from_id": beyond})
        assert (empty.json(), empty.headers["Total"]) == ([], "0")
    # Without from_id nothing changes: newest first.
    assert ids(api.post(route, extra)) == stored[::-1]


@pytest.mark.parametrize("route", list(LISTS))
def test_from_id_messages_come_last(api, rows, route):
    assert api.post(route, {**filters_of(route), "from_id": -1}).json() == {"error": "from_id does not have a valid value"}
    assert api.post(route, {**filters_of(route), "from_id": "last"}).json() == {"error": "from_id is invalid"}
    assert api.post(route, {"page": 0, "from_id": -1}).json()["error"].endswith(
        "page must be greater than 0, from_id does not have a valid value")


def test_withdraws_state_and_from_id_messages_in_order(api, rows):
    assert api.post("withdraws", {"state": "done", "from_id": -1}).json() == {
        "error": "state does not have a valid value, from_id does not have a valid value"}


def test_from_id_keeps_the_other_filters(api, rows, bob):  # noqa: F811
    api.post("deposits/new", {"uid": bob.uid, "currency": "usd", "amount": "5", "state": "accepted"})
    alices = list(Deposit.objects.filter(member__uid=ALICE).order_by("id").values_list("id", flat=True))
    answer = api.post("deposits", {"uid": ALICE, "from_id": 0, "limit": 2})
    assert ids(answer) == alices[:2] and headers(answer) == (3, 1, 2)
    liabilities = api.post("liabilities", {"uid": bob.uid, "currency": "usd", "from_id": 0})
    assert [row["uid"] for row in liabilities.json()] == [bob.uid]  # the 201 credit of the deposit
    trades_of_alice = api.post("trades", {"uid": ALICE, "from_id": 0})
    assert ids(trades_of_alice) == [1, 3] and trades_of_alice.json()[0]["side"] == "ask"


def test_entities_carry_their_ids(api, rows):
    deposit = api.post("deposits", {"limit": 1}).json()[0]
    assert list(deposit)[0] == "id" and deposit["id"] == Deposit.objects.latest("id").pk
    withdraw = api.post("withdraws", {"limit": 1}).json()[0]
    assert list(withdraw)[:1] == ["id"] and withdraw["beneficiary_id"] is None
    assert list(withdraw).index("beneficiary_id") == list(withdraw).index("rid") + 1
    posting = api.post("assets", {"limit": 1}).json()[0]
    assert list(posting)[0] == "id" and isinstance(posting["id"], int)


# --- the sync guarantee through the routes (§8.5 suggested checks (a) and (b)) -----------------------------------


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_open_deposit_withholds_one_created_through_deposits_new(api, usd, side_connection, outcome):
    member = MemberFactory()
    writer = side_connection()
    writer.execute("BEGIN")
    held = insert_deposit_sql(writer, member_id=member.pk, currency="usd", tid="held")
    created = api.post("deposits/new", {"uid": member.uid, "currency": "usd", "amount": "7", "tid": "later"})
    assert created.status_code == 201 and created.json()["id"] > held

    waiting = api.post("deposits", {"from_id": held - 1})
    assert (waiting.json(), waiting.headers["Total"]) == ([], "0")
    writer.execute("COMMIT" if outcome == "commit" else "ROLLBACK")
    expected = [held, created.json()["id"]] if outcome == "commit" else [created.json()["id"]]
    assert ids(api.post("deposits", {"from_id": held - 1})) == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", ["liabilities/new", "transfers/new"])
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_open_posting_withholds_postings_created_through_the_routes(api, usd, chart, route, outcome):
    holder, other = MemberFactory(), MemberFactory()  # the open writer holds the holder's account row
    liability = ChartAccount.objects.get(code=201)
    open_writer = OpenTransaction(lambda: ledger.operation_post(account=liability, currency=usd, side="credit",
                                                               amount=Decimal("5"), uid=holder.uid))
    held = open_writer.result.pk
    if route == "liabilities/new":
        answer = api.post(route, {"currency": "usd", "code": 201, "uid": other.uid, "credit": "3"})
        later = [answer.json()["id"]]
    else:
        answer = api.post(route, {"key": 1, "kind": "deposit", "operations": [{
            "currency": "usd", "amount": "3", "account_src": {"code": 101}, "account_dst": {"code": 201, "uid": other.uid}}]})
        later = [row["id"] for row in answer.json()["liabilities"]]
    assert answer.status_code == 201 and held < later[0]

    waiting = api.post("liabilities", {"from_id": held - 1})
    assert (waiting.json(), waiting.headers["Total"]) == ([], "0")
    if outcome == "commit":
        open_writer.commit()
        assert ids(api.post("liabilities", {"from_id": held - 1})) == [held, *later]
    else:
        open_writer.rollback()
        assert ids(api.post("liabilities", {"from_id": held - 1})) == later
