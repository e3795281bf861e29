"""The per-process cache of currencies and chart accounts behind the parameter parse (ledger/cache.py)."""

from decimal import Decimal

import pytest

from ledger import cache
from ledger.api.fields import ChartCode, CurrencyCode
from ledger.models import ChartAccount, Currency
from peatio_mgmt.management_api.serializers import ParameterError, Params
from tests.factories import CoinFactory

pytestmark = pytest.mark.django_db



class PARAMS(Params):
    currency = CurrencyCode(required=True)


class CodeParams(Params):
    code = ChartCode(required=True)


def test_a_currency_created_after_the_cache_was_filled_is_found(usd):
    assert PARAMS.validate_data({"currency": "usd"})["currency"] == usd
    CoinFactory()  # in this process: the save signal empties the cache
    assert PARAMS.validate_data({"currency": "btc"})["currency"].id == "btc"


def test_a_currency_created_without_signals_is_found_by_the_reload_on_a_miss(usd):
    PARAMS.validate_data({"currency": "usd"})
    Currency.objects.bulk_create([Currency(id="eur", name="Euro", type="fiat", symbol="E", precision=2)])
    assert PARAMS.validate_data({"currency": "eur"})["currency"].id == "eur"


def test_a_saved_change_is_seen_by_the_next_parse(usd):
    assert PARAMS.validate_data({"currency": "usd"})["currency"].deposit_fee == 0
    usd.deposit_fee = Decimal("0.5")
    usd.save()
    assert PARAMS.validate_data({"currency": "usd"})["currency"].deposit_fee == Decimal("0.5")


def test_a_change_made_elsewhere_is_seen_after_the_ttl(usd, monkeypatch):
    PARAMS.validate_data({"currency": "usd"})
    Currency.objects.filter(id="usd").update(deposit_fee=Decimal("0.25"))  # no signal: another process's change
    assert PARAMS.validate_data({"currency": "usd"})["currency"].deposit_fee == 0
    monkeypatch.setattr(cache, "TTL", -1.0)
    assert PARAMS.validate_data({"currency": "usd"})["currency"].deposit_fee == Decimal("0.25")


def test_an_unknown_code_stays_invalid(usd):
    with pytest.raises(ParameterError) as error:
        PARAMS.validate_data({"currency": "xyz"})
    assert error.value.messages == ["currency does not have a valid value"]


def test_a_deleted_chart_account_is_no_longer_resolved(db):
    account = ChartAccount.objects.get(code=301)
    assert CodeParams.validate_data({"code": 301})["code"] == account
    account.delete()
    with pytest.raises(ParameterError):
        CodeParams.validate_data({"code": 301})
