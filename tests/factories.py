"""Factories of every model a test makes rows of: reference data (members, currencies, the chart, markets), plain
deposit, withdraw, order and trade rows, transfers, platform postings and operators' second factors — none with
postings on a member account (a test that needs the money side goes through the services). Balances are never set
directly: `fund_member` posts them like a deposit."""

from datetime import UTC, datetime
from decimal import Decimal

import factory

from deposits.models import Deposit
from ledger.core import Entry, Reference
from ledger.models import AccountType, ChartAccount, Currency, Member, Operation, Transfer
from operators import totp
from operators.models import OperatorTOTP
from trades.models import Market, Order, Trade
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


class ChartAccountFactory(factory.django.DjangoModelFactory):
    """An account of the chart beyond the default ten (a platform-scope one by default)."""

    class Meta:
        model = ChartAccount
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: 900 + n)
    type = AccountType.LIABILITY
    kind = factory.Sequence(lambda n: f"extra-{n}")
    currency_type = "fiat"
    scope = "platform"
    description = factory.LazyAttribute(lambda a: f"{a.kind} account")


class OperationFactory(factory.django.DjangoModelFactory):
    """A platform-account posting written as a row, at a chosen `created_at` (the ledger core stamps postings with
    the database's now()). Platform postings move no member balance: a member-scope code is refused."""

    class Meta:
        model = Operation

    code = factory.LazyFunction(lambda: ChartAccount.objects.get(code=101))
    type = factory.LazyAttribute(lambda o: o.code.type)
    currency = factory.SubFactory(CurrencyFactory)
    debit = Decimal("0")
    credit = Decimal("1")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        assert not kwargs["code"].is_member_scope, "member postings go through the ledger core (ledger.core.Entry)"
        return super()._create(model_class, *args, **kwargs)


class TransferFactory(factory.django.DjangoModelFactory):
    """A transfer row alone (its postings are made by the test through the ledger core)."""

    class Meta:
        model = Transfer

    key = factory.Sequence(lambda n: n + 1)
    kind = "member-transfer"


class OrderFactory(factory.django.DjangoModelFactory):
    """A done order of one unit at price 1 (orders are the trading engine's rows: read-only here)."""

    class Meta:
        model = Order

    side = "ask"
    market = factory.SubFactory(MarketFactory)
    member = factory.SubFactory(MemberFactory)
    ask = factory.LazyAttribute(lambda o: o.market.base_unit_id)
    bid = factory.LazyAttribute(lambda o: o.market.quote_unit_id)
    price = Decimal("1")
    volume = Decimal("0")
    origin_volume = Decimal("1")
    state = "done"
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))


class TradeFactory(factory.django.DjangoModelFactory):
    """A trade between an ask and a bid order of one market (each side's member is its order's)."""

    class Meta:
        model = Trade

    market = factory.SubFactory(MarketFactory)
    ask = factory.SubFactory(OrderFactory, market=factory.SelfAttribute("..market"), side="ask")
    bid = factory.SubFactory(OrderFactory, market=factory.SelfAttribute("..market"), side="bid")
    ask_member = factory.LazyAttribute(lambda t: t.ask.member)
    bid_member = factory.LazyAttribute(lambda t: t.bid.member)
    price = Decimal("1")
    volume = Decimal("1")
    funds = factory.LazyAttribute(lambda t: Decimal(t.price) * Decimal(t.volume))
    trend = "up"
    created_at = factory.LazyFunction(lambda: datetime.now(UTC))


class OperatorTOTPFactory(factory.django.DjangoModelFactory):
    """An operator's second factor, enabled (`confirmed`) by default; `user` is required."""

    class Meta:
        model = OperatorTOTP

    secret = factory.LazyFunction(totp.new_secret)
    confirmed = True
