"""Factories of the reference data and of plain deposit, withdraw and market rows (no postings: a test that needs
the money side goes through the services). Balances are never set directly: `fund_member` posts them like a deposit."""

from decimal import Decimal

import factory

from deposits.models import Deposit
from ledger.core import Entry, Reference
from ledger.models import AccountType, Currency, Member
from trades.models import Market
from withdraws.models import Withdraw


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    uid = factory.Sequence(lambda n: f"U{100000000 + n}")
    email = factory.LazyAttribute(lambda m: f"{m.uid.lower()}@example.com")
    level = 3


class CurrencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Currency
        django_get_or_create = ("id",)

    id = "usd"
    name = "US Dollar"
    type = "fiat"
    symbol = "$"
    precision = 2
    withdraw_fee = Decimal("0.1")
    min_withdraw_amount = Decimal("1.0")
    withdraw_limit_24h = Decimal("1000")
    withdraw_limit_72h = Decimal("3000")


class CoinFactory(CurrencyFactory):
    id = "btc"
    name = "Bitcoin"
    type = "coin"
    symbol = "฿"
    precision = 8
    base_factor = 100_000_000
    withdraw_fee = Decimal("0.0001")
    min_withdraw_amount = Decimal("0.001")
    withdraw_limit_24h = Decimal("0.1")
    withdraw_limit_72h = Decimal("0.2")
    wallet_gateway = "simulated"
    min_confirmations = 6
    address_format = "bitcoin"


def fund_member(member: Member, currency: Currency, amount, *, reference: Reference | None = None):
    """Give a member funds the way money enters the exchange: asset credit + member liability credit."""
    amount = Decimal(str(amount))
    return Entry(reference).platform(AccountType.ASSET, currency, "credit", amount).plus_funds(member, currency, amount).post()


class EtherFactory(CurrencyFactory):
    """eth on the ethereum gateway; tests pass wallet_settings pointing at their anvil node (tests/anvil.py)."""

    id = "eth"
    name = "Ether"
    type = "coin"
    symbol = "Ξ"
    precision = 16
    base_factor = 10**18
    withdraw_fee = Decimal("0")
    min_withdraw_amount = Decimal("0.001")
    withdraw_limit_24h = Decimal("100")
    withdraw_limit_72h = Decimal("300")
    wallet_gateway = "ethereum"
    min_confirmations = 12
    address_format = "ethereum"


class DepositFactory(factory.django.DjangoModelFactory):
    """A deposit row as a route would have stored it (submitted, no postings)."""

    class Meta:
        model = Deposit

    member = factory.SubFactory(MemberFactory)
    currency = factory.SubFactory(CurrencyFactory)
    type = factory.LazyAttribute(lambda d: d.currency.type)
    tid = factory.Sequence(lambda n: f"TIDF{n:09d}")
    amount = Decimal("1")


class WithdrawFactory(factory.django.DjangoModelFactory):
    """A withdraw row (prepared, no postings): sum = amount + fee, as the database checks (fee 0 by default, as the
    column)."""

    class Meta:
        model = Withdraw

    member = factory.SubFactory(MemberFactory)
    currency = factory.SubFactory(CurrencyFactory)
    type = factory.LazyAttribute(lambda w: w.currency.type)
    tid = factory.Sequence(lambda n: f"TIDW{n:09d}")
    rid = "IBAN"
    amount = Decimal("10")
    fee = Decimal("0")
    sum = factory.LazyAttribute(lambda w: Decimal(w.amount) + Decimal(w.fee))


class MarketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Market

    id = factory.LazyAttribute(lambda m: f"{m.base_unit.id}{m.quote_unit.id}")
    base_unit = factory.SubFactory(CoinFactory)
    quote_unit = factory.SubFactory(CurrencyFactory)
