"""/accounts/balances, /currencies/list|get and /markets/list|get below HTTP (management-api-extensions.md §7.1,
§7.6–7.9), with the Balance, Currency and Market entities (§6.3, §6.4)."""

from decimal import Decimal

import pytest
from django.db import connection

from ledger.core import Entry
from ledger.representations import render_balance, render_currency
from ledger.selectors import NONZERO_ACCOUNTS_WHERE, account_balances, currency_get, currency_list
from peatio_mgmt.errors import RecordNotFound
from tests.factories import CoinFactory, CurrencyFactory, MarketFactory, MemberFactory, fund_member
from trades.representations import render_market
from trades.selectors import market_get, market_list


@pytest.mark.django_db
def test_balances_of_one_currency_skip_zero_accounts_in_account_id_order(usd, btc):
    alice, bob, carol, dave = (MemberFactory() for _ in range(4))
    fund_member(alice, usd, "1331.4")
    Entry().lock_funds(alice, usd, Decimal("330.55")).post()
    fund_member(bob, btc, 1)  # another currency
    fund_member(carol, usd, "160.79")
    fund_member(dave, usd, 5)
    Entry().lock_funds(dave, usd, Decimal(5)).post()  # zero balance, locked > 0: listed
    fund_member(bob, usd, "0.5")
    Entry().sub_funds(bob, usd, Decimal("0.5")).post()  # an account back at zero: not listed

    rows, total = account_balances(currency_id="usd", page=1, limit=2)
    assert total == 3
    assert [render_balance(row) for row in rows] == [
        {"uid": alice.uid, "balance": "1000.85", "locked": "330.55"},
        {"uid": carol.uid, "balance": "160.79", "locked": "0.0"},
    ]
    rows, total = account_balances(currency_id="usd", page=2, limit=2)
    assert ([render_balance(row) for row in rows], total) == ([{"uid": dave.uid, "balance": "0.0", "locked": "5.0"}], 3)
    assert account_balances(currency_id="usd", page=3, limit=2) == ([], 3)
    assert account_balances(currency_id="eth", page=1, limit=1000) == ([], 0)


@pytest.mark.django_db
def test_balances_are_read_through_the_partial_index(usd):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT a.id FROM accounts AS a WHERE {NONZERO_ACCOUNTS_WHERE} ORDER BY a.id LIMIT 10",
                       ["usd"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "accounts_nonzero_by_currency" in plan


@pytest.mark.django_db
def test_currencies_by_position_then_id_filtered_by_type():
    usd = CurrencyFactory(position=1)
    CurrencyFactory(id="eur", name="Euro", symbol="€", position=2, enabled=False)
    btc = CoinFactory(position=3, min_deposit_amount=Decimal("0.0001"), wallet_settings={"rpc_url": "http://secret"})
    CoinFactory(id="eth", name="Ethereum", symbol="Ξ", position=3, precision=16, base_factor=10**18,
                address_format="ethereum", min_confirmations=12)
    assert [c.id for c in currency_list()] == ["usd", "eur", "btc", "eth"]
    assert [c.id for c in currency_list(type_="coin")] == ["btc", "eth"]
    assert [c.id for c in currency_list(type_="fiat")] == ["usd", "eur"]

    coin = render_currency(currency_get(code=btc.id))
    assert list(coin) == ["id", "code", "name", "symbol", "type", "enabled", "precision", "base_factor", "position",
                          "deposit_fee", "min_deposit_amount", "min_collection_amount", "withdraw_fee",
                          "min_withdraw_amount", "withdraw_limit_24h", "withdraw_limit_72h", "icon_url",
                          "min_confirmations", "address_format", "created_at", "updated_at"]
    assert (coin["id"], coin["code"], coin["min_deposit_amount"], coin["withdraw_fee"], coin["base_factor"],
            coin["min_confirmations"], coin["address_format"]) == ("btc", "btc", "0.0001", "0.0001", 100_000_000, 6,
                                                                  "bitcoin")
    assert "secret" not in str(coin) and not {"wallet_gateway", "wallet_settings", "options"} & set(coin)
    assert render_currency(currency_get(code="eth"))["base_factor"] == 10**18
    fiat = render_currency(currency_get(code=usd.id))
    assert "min_confirmations" not in fiat and "address_format" not in fiat
    assert (fiat["withdraw_fee"], fiat["min_withdraw_amount"], fiat["deposit_fee"]) == ("0.1", "1.0", "0.0")


@pytest.mark.django_db
def test_currency_get_by_stored_or_uppercase_code_only(usd):
    assert currency_get(code="usd") == usd
    assert currency_get(code="USD") == usd
    for code in ("Usd", "doge", ""):
        with pytest.raises(RecordNotFound):
            currency_get(code=code)


@pytest.fixture
def markets(usd, btc):
    eth = CoinFactory(id="eth", name="Ethereum", symbol="Ξ", address_format="ethereum")
    btcusd = MarketFactory(id="btcusd", base_unit=btc, quote_unit=usd, amount_precision=8, price_precision=2,
                           min_price=Decimal("0.01"), min_amount=Decimal("0.00000001"),
                           ask_fee=Decimal("0.0015"), bid_fee=Decimal("0.0015"), position=1)
    ethbtc = MarketFactory(id="ethbtc", base_unit=eth, quote_unit=btc, amount_precision=4, price_precision=6,
                           position=2, state="disabled")
    return btcusd, ethbtc


@pytest.mark.django_db
def test_markets_by_position_filtered_by_state_and_rendered(markets):
    btcusd, ethbtc = markets
    assert list(market_list()) == [btcusd, ethbtc]
    assert list(market_list(state="disabled")) == [ethbtc]
    assert list(market_list(state="hidden")) == []
    body = render_market(market_get(symbol="btcusd"))
    assert {k: v for k, v in body.items() if k not in ("created_at", "updated_at")} == {
        "id": "btcusd", "symbol": "btcusd", "name": "BTC/USD", "base_unit": "btc", "quote_unit": "usd",
        "amount_precision": 8, "price_precision": 2, "min_price": "0.01", "max_price": "0.0",
        "min_amount": "0.00000001", "ask_fee": "0.0015", "bid_fee": "0.0015", "position": 1, "state": "enabled"}


@pytest.mark.django_db
def test_market_get_by_stored_or_uppercase_symbol_in_any_state(markets):
    assert market_get(symbol="ETHBTC") == markets[1]
    for symbol in ("EthBtc", "dogeusd"):
        with pytest.raises(RecordNotFound):
            market_get(symbol=symbol)
