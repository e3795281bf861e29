"""POST /accounts/balances, /currencies/list, /currencies/get, /markets/list, /markets/get over HTTP
(management-api-extensions.md §7.1, §7.6–7.9)."""

from decimal import Decimal

from ledger.core import Entry
from ledger.models import Currency
from tests.factories import MemberFactory, fund_member
from tests.ledger.conftest import ALICE, alice, bob, carol, eth  # noqa: F401  (fixtures)
from tests.trades.conftest import trades  # noqa: F401  (fixture)


def test_balances_of_one_currency_account_id_ascending(api, alice, carol, usd):  # noqa: F811
    fund_member(alice, usd, "1331.4")
    Entry().lock_funds(alice, usd, Decimal("330.55")).post()
    fund_member(carol, usd, "160.79")
    zero = MemberFactory()
    fund_member(zero, usd, "1")
    Entry().sub_funds(zero, usd, Decimal("1")).post()  # an account back at zero is not listed

    first = api.post("accounts/balances", {"currency": "USD", "limit": 1})
    assert first.status_code == 201 and first.pagination == {"Total": "2", "Page": "1", "Per-Page": "1"}
    assert first.json() == [{"uid": ALICE, "balance": "1000.85", "locked": "330.55"}]
    second = api.post("accounts/balances", {"currency": "usd", "limit": 1, "page": 2})
    assert second.json() == [{"uid": carol.uid, "balance": "160.79", "locked": "0.0"}]
    everything = api.post("accounts/balances", {"currency": "usd"})
    assert everything.pagination == {"Total": "2", "Page": "1", "Per-Page": "1000"}


def test_balances_of_an_empty_currency_and_its_messages(api, eth):  # noqa: F811
    empty = api.post("accounts/balances", {"currency": "ETH"})
    assert (empty.json(), empty.pagination) == ([], {"Total": "0", "Page": "1", "Per-Page": "1000"})
    assert api.post("accounts/balances", {"limit": 20000}).json() == {
        "error": "currency is missing, limit must be in range: 1..10000."}


def test_currencies_list_and_get(api, usd, btc, eth):  # noqa: F811
    Currency.objects.filter(pk="eth").update(base_factor=10**18, position=4)
    Currency.objects.filter(pk="btc").update(position=3)
    coins = api.post("currencies/list", {"type": "coin"})
    assert coins.status_code == 201 and "Total" not in coins.headers
    assert [c["id"] for c in coins.json()] == ["btc", "eth"]
    assert coins.json()[1]["base_factor"] == 10**18  # exactly, not through a double
    assert coins.json()[0]["address_format"] == "bitcoin" and coins.json()[0]["min_confirmations"] == 6
    assert [c["id"] for c in api.post("currencies/list", {}).json()] == ["usd", "btc", "eth"]
    usd_answer = api.post("currencies/get", {"code": "USD"}).json()
    assert usd_answer["code"] == "usd" and "min_confirmations" not in usd_answer and "address_format" not in usd_answer
    assert usd_answer["withdraw_fee"] == "0.1" and not {"wallet_gateway", "wallet_settings", "options"} & set(usd_answer)
    assert api.post("currencies/get", {"code": "Usd"}).status_code == 404
    assert api.post("currencies/get", {"code": "doge"}).json() == {"error": "Couldn't find record."}
    assert api.post("currencies/get", {}).json() == {"error": "code is missing"}
    assert api.post("currencies/list", {"type": "token"}).json() == {"error": "type does not have a valid value"}


def test_markets_list_and_get(api, trades):  # noqa: F811
    everything = api.post("markets/list", {})
    assert everything.status_code == 201 and "Total" not in everything.headers
    assert [m["id"] for m in everything.json()] == ["btcusd", "ethbtc", "ethusd"]
    assert [m["id"] for m in api.post("markets/list", {"state": "disabled"}).json()] == ["ethbtc"]
    assert api.post("markets/list", {"state": "hidden"}).json() == []
    ethbtc = api.post("markets/get", {"symbol": "ETHBTC"}).json()
    assert (ethbtc["symbol"], ethbtc["name"], ethbtc["state"]) == ("ethbtc", "ETH/BTC", "disabled")
    assert api.post("markets/get", {"symbol": "dogeusd"}).status_code == 404
    assert api.post("markets/get", {}).json() == {"error": "symbol is missing"}
    assert api.post("markets/list", {"state": "open"}).json() == {"error": "state does not have a valid value"}
