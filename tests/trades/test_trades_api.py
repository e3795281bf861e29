"""POST /trades (management-api.md §4.21, §3.6)."""

import pytest
from django.db import connection

from tests.ledger.conftest import ALICE, BOB, CAROL
from tests.trades.conftest import order, trade
from trades.models import Market
from trades.selectors import trade_ids

pytestmark = pytest.mark.django_db

TRADE_3 = {"id": "3", "price": "10.0", "volume": "1.0", "funds": "10.0", "market": "btcusd",
           "created_at": "2026-11-22T11:00:00Z", "ask_id": "6", "bid_id": "5", "ask_member_uid": CAROL,
           "bid_member_uid": ALICE, "taker_type": "sell"}
TRADE_1 = {"id": "1", "price": "12.32", "volume": "123.12345678", "funds": "1516.8809875296", "market": "btcusd",
           "created_at": "2026-11-21T09:00:00Z", "ask_id": "1", "bid_id": "2", "ask_member_uid": ALICE,
           "bid_member_uid": BOB, "taker_type": "buy"}


def as_text(items):
    """JSON numbers parsed exactly, compared by their digits (10.0 must be written 10.0, not 10)."""
    return [{k: (str(v) if k in ("price", "volume", "funds") else v) for k, v in item.items()} for item in items]


def test_trades_of_a_market_newest_first(api, trades):
    response = api.post("/trades", {"market": "btcusd"})

    assert response.status_code == 201
    assert {name: response.headers[name] for name in ("Total", "Page", "Per-Page")} == {"Total": "2", "Page": "1", "Per-Page": "100"}
    assert as_text(response.json()) == [TRADE_3, TRADE_1]
    assert b'"price":10.0,"volume":1.0,"funds":10.0' in response.content
    assert b'"funds":1516.8809875296' in response.content


def test_trades_of_a_member_carry_side_and_order_id(api, trades):
    response = api.post("/trades", {"uid": ALICE, "limit": 1})

    assert response.status_code == 201
    assert {name: response.headers[name] for name in ("Total", "Page", "Per-Page")} == {"Total": "2", "Page": "1", "Per-Page": "1"}
    assert as_text(response.json()) == [TRADE_3 | {"side": "bid", "order_id": 5}]
    assert b'"order_id":5' in response.content

    second_page = api.post("/trades", {"uid": ALICE.lower(), "limit": 1, "page": 2}).json()
    assert as_text(second_page) == [TRADE_1 | {"side": "ask", "order_id": 1}]


def test_member_and_market_filters_combine(api, trades):
    response = api.post("/trades", {"uid": BOB, "market": "ethusd"})
    assert [(t["id"], t["side"], t["order_id"]) for t in response.json()] == [("2", "ask", 3)]
    assert api.post("/trades", {"uid": "", "market": "ethusd"}).headers["Total"] == "1"
    assert api.post("/trades").headers["Total"] == "3"


def test_a_member_on_both_sides_is_reported_as_the_seller(api, trades, alice):
    btcusd = Market.objects.get(pk="btcusd")
    trade(4, btcusd, order(7, "ask", btcusd, alice, "2026-11-23T08:00:00Z"),
          order(8, "bid", btcusd, alice, "2026-11-23T08:00:01Z"), "11", "2", "22", "2026-11-23T08:00:01Z")
    (first, *_) = api.post("/trades", {"uid": ALICE}).json()
    assert (first["id"], first["side"], first["order_id"], first["taker_type"]) == ("4", "ask", 7, "buy")


@pytest.mark.parametrize("data, status, body", [
    ({"market": "dogeusd"}, 422, {"error": "market Market does not exist"}),
    ({"market": "ethbtc"}, 422, {"error": "market Market does not exist"}),  # disabled
    ({"uid": "U000000000"}, 404, {"error": "Couldn't find record."}),
    ({"page": 0, "limit": 1001, "market": ["btcusd"]},
     422, {"error": "market is invalid, page must be greater than 0, limit must be in range: 1..1000."}),
])
def test_trade_list_refusals(api, trades, data, status, body):
    response = api.post("/trades", data)
    assert (response.status_code, response.json()) == (status, body)


def test_a_page_is_a_fixed_number_of_queries_whatever_its_size(api, trades, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # market check, member, ids of the page, their rows, COUNT
        assert len(api.post("/trades", {"uid": ALICE, "market": "btcusd", "limit": 1}).json()) == 1
    with django_assert_max_num_queries(3):  # a short first page tells the total: no COUNT
        assert len(api.post("/trades", {"uid": BOB, "limit": 1000}).json()) == 2


def _fill_btcusd_between_bob_and_carol(bob, carol, count=20000):
    btcusd = Market.objects.get(pk="btcusd")
    ask, bid = order(1000, "ask", btcusd, bob, "2026-11-20T00:00:00Z"), order(1001, "bid", btcusd, carol, "2026-11-20T00:00:00Z")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO trades (id, market_id, price, volume, funds, ask_id, bid_id, ask_member_id, bid_member_id,"
            " trend, created_at, updated_at) SELECT g, 'btcusd', 1, 1, 1, %s, %s, %s, %s, 'up', now(), now()"
            " FROM generate_series(100, %s) g",
            [ask.pk, bid.pk, bob.pk, carol.pk, 99 + count],
        )
        cursor.execute("ANALYZE trades")


def test_the_member_filter_uses_both_member_indexes(trades, alice, bob, carol):
    """A member with few trades among many is found through the two member indexes, not by scanning trades.

    (For a member in most trades PostgreSQL rightly walks the primary key backwards and stops after one page.)
    """
    _fill_btcusd_between_bob_and_carol(bob, carol)
    plan = trade_ids(member=alice)[:100].explain()
    assert "trades_ask_member_id" in plan and "trades_bid_member_id" in plan, plan
    assert "Seq Scan on trades" not in plan, plan


def test_a_quiet_market_is_read_from_its_index(trades, bob, carol):
    _fill_btcusd_between_bob_and_carol(bob, carol)
    plan = trade_ids(market_id="ethusd")[:100].explain()
    assert "trades_market_id" in plan and "Seq Scan on trades" not in plan, plan
