"""Markets, orders and trades of the contract's examples (management-api.md §4.21)."""

from decimal import Decimal

import pytest

from tests.factories import MarketFactory, OrderFactory, TradeFactory
from tests.ledger.conftest import alice, at, bob, carol, eth  # noqa: F401  (fixtures shared with the ledger tests)


def order(pk, side, market, member, created_at):
    return OrderFactory(pk=pk, side=side, market=market, member=member, created_at=at(created_at))


def trade(pk, market, ask, bid, price, volume, funds, created_at):
    return TradeFactory(pk=pk, market=market, ask=ask, bid=bid, price=Decimal(price), volume=Decimal(volume),
                        funds=Decimal(funds), created_at=at(created_at))


@pytest.fixture
def trades(alice, bob, carol, usd, btc, eth):
    btcusd = MarketFactory(id="btcusd", base_unit=btc, quote_unit=usd)
    ethusd = MarketFactory(id="ethusd", base_unit=eth, quote_unit=usd)
    MarketFactory(id="ethbtc", base_unit=eth, quote_unit=btc, state="disabled")
    trade(1, btcusd, order(1, "ask", btcusd, alice, "2026-11-21T08:00:00Z"), order(2, "bid", btcusd, bob, "2026-11-21T09:00:00Z"),
          "12.32", "123.12345678", "1516.8809875296", "2026-11-21T09:00:00Z")
    trade(2, ethusd, order(3, "ask", ethusd, bob, "2026-11-21T10:00:00Z"), order(4, "bid", ethusd, carol, "2026-11-21T10:00:00Z"),
          "2000", "0.5", "1000", "2026-11-21T10:00:00Z")
    trade(3, btcusd, order(6, "ask", btcusd, carol, "2026-11-22T11:00:00Z"), order(5, "bid", btcusd, alice, "2026-11-22T10:00:00Z"),
          "10", "1", "10", "2026-11-22T11:00:00Z")
