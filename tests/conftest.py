import psycopg
import pytest
from django.db import connection
from django.db.models import Max
from psycopg.pq import TransactionStatus

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


DATABASE_FIXTURES = ("db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server")


@pytest.fixture(autouse=True)
def books_balance(request):
    """After every test whose journal grew (it moved money), in the test's database: every account equals its
    member's liability postings and the books check finds no breach. Committed data too (`transaction=True`).

    Tests that build breaches on purpose opt out with `@pytest.mark.books_breached`.
    """
    uses_database = request.node.get_closest_marker("django_db") or any(f in request.fixturenames for f in DATABASE_FIXTURES)
    if not uses_database or request.node.get_closest_marker("books_breached"):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # the test's database set up (and torn down) around this fixture
    from ledger.models import Operation

    before = Operation.objects.aggregate(last=Max("id"))["last"] or 0
    yield
    if connection.needs_rollback or (connection.connection is not None
                                     and connection.connection.info.transaction_status == TransactionStatus.INERROR):
        return  # the test left its transaction aborted: nothing it wrote stands
    if (Operation.objects.aggregate(last=Max("id"))["last"] or 0) == before:
        return
    from ledger.books import books_check

    assert account_mismatches() == []
    assert books_check().breaches == []


@pytest.fixture
def api(db):
    """Signed HTTP requests through the gate, with a test keychain in force for the test."""
    from peatio_mgmt.management_api import config
    from tests.api_client import ApiClient

    yield ApiClient()
    config.reload()


@pytest.fixture
def anvil():
    """A fresh anvil node of the test's own (tests/anvil.py), stopped at the end."""
    from tests.anvil import Anvil

    node = Anvil()
    yield node
    node.stop()


@pytest.fixture
def eth_settings(anvil, tmp_path):
    """wallet_settings of eth on `anvil`: hot wallet = dev account 0 (key in a 0600 file), the test xpub."""
    from tests.anvil import CHAIN_ID, HOT_ADDRESS, TEST_XPUB, write_hot_key

    return {"rpc_url": anvil.url, "chain_id": CHAIN_ID, "hot_wallet_address": HOT_ADDRESS,
            "hot_wallet_key_file": write_hot_key(tmp_path), "deposit_xpub": TEST_XPUB, "reorg_depth": 8}


@pytest.fixture
def eth(db, eth_settings):
    from tests.factories import EtherFactory

    return EtherFactory(wallet_settings=eth_settings)


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
