import pytest

from ledger import cache
from ledger.selectors import account_mismatches
from tests.factories import CoinFactory, CurrencyFactory, MemberFactory


@pytest.fixture(autouse=True)
def fresh_reference_cache():
    """Tests roll back or rewrite currencies without signals (flush, queryset update()): no cached row outlives one."""
    cache.currencies.clear()
    cache.chart_accounts.clear()
    yield
    cache.currencies.clear()
    cache.chart_accounts.clear()


@pytest.fixture(autouse=True)
def close_simulated_wallet():
    """The simulated gateway's own connections (any thread's) are closed after each test."""
    yield
    from withdraws.gateways.simulated import close_wallet_connections

    close_wallet_connections()


@pytest.fixture
def usd(db):
    return CurrencyFactory()


@pytest.fixture
def btc(db):
    return CoinFactory()


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def ledger_invariant():
    """Use in every test that moves money: after it, every account equals its member's liability postings."""
    yield
    assert account_mismatches() == []


def assert_ledger_invariant():
    assert account_mismatches() == []


@pytest.fixture
def api(db):
    """Signed HTTP requests through the gate, with a test keychain in force for the test."""
    from peatio_mgmt.management_api import config
    from tests.api_client import ApiClient

    yield ApiClient()
    config.reload()
