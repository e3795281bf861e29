import psycopg
import pytest

from ledger import cache
from ledger.selectors import account_mismatches
from tests.factories import CoinFactory, CurrencyFactory, MemberFactory
from tests.support import database_url


@pytest.fixture(autouse=True)
def fresh_reference_cache():
    """Tests roll back or rewrite currencies without signals (flush, queryset update()): no cached row outlives one."""
    cache.currencies.clear()
    cache.chart_accounts.clear()
    yield
    cache.currencies.clear()
    cache.chart_accounts.clear()


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


@pytest.fixture
def side_connection():
    """Open a psycopg connection of its own to the test database (closed after the test)."""
    opened = []

    def open_():
        conn = psycopg.connect(database_url())
        opened.append(conn)
        return conn

    yield open_
    for conn in opened:
        conn.close()
