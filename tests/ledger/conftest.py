"""The reference data of the contract's examples (management-api.md §4): Alice, Bob, Carol; usd, eur, btc, eth."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ledger.chart import install_default_chart
from ledger.models import ChartAccount, Currency
from tests.factories import ChartAccountFactory, CoinFactory, CurrencyFactory, MemberFactory, OperationFactory

ALICE, BOB, CAROL = "U487205863", "U117340922", "U902118455"


@pytest.fixture
def alice(db):
    return MemberFactory(uid=ALICE)


@pytest.fixture
def bob(db):
    return MemberFactory(uid=BOB)


@pytest.fixture
def carol(db):
    return MemberFactory(uid=CAROL)


@pytest.fixture
def eur(db):
    return CurrencyFactory(id="eur", name="Euro", symbol="€", deposit_fee=Decimal("1.5"))


@pytest.fixture
def eth(db):
    return CoinFactory(id="eth", name="Ether", symbol="Ξ", precision=16, address_format="ethereum")


@pytest.fixture
def chart(db):
    """The default chart of accounts; a transactional test (transaction=True) flushes the migration's rows."""
    if not ChartAccount.objects.exists():
        install_default_chart(ChartAccount)


@pytest.fixture
def demo(chart, alice, bob, carol, usd, eur, btc, eth):
    """Everything the examples name."""


@pytest.fixture
def token_distribution_account(chart):
    """The platform-scope liability account 292 of the example chart (domain.md §3)."""
    return ChartAccountFactory(code=292, type="liability", kind="token-distribution", currency_type="coin",
                               scope="platform", description="Token Distributions Liabilities Account")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def platform_posting(code: int, currency: str, *, credit=0, debit=0, created_at: str, reference=None, member=None):
    """A platform-account posting written with a chosen time (platform postings move no member balance).

    Only for asset/revenue/expense codes: member balances must come through the ledger core.
    """
    reference_type, reference_id = reference or (None, None)
    return OperationFactory(
        code=ChartAccount.objects.get(code=code), currency=Currency.objects.get(pk=currency), member=member, reference_type=reference_type,
        reference_id=reference_id, credit=Decimal(str(credit)), debit=Decimal(str(debit)), created_at=at(created_at),
    )
