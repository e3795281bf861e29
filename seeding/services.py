"""Loading seed files (seed-format.md): reference data upserted by natural key, and the historical trade import.

`seed_load` reads every file (seeding.files), checks the references between entries and to stored rows,
then applies the sections in dependency order in one transaction. A rule that depends on the stored row an
entry merges into (immutable fields, the chart's uniqueness, a market's precisions) is checked while applying;
any problem rolls the whole load back. It never moves money: no balance, no posting.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.db import connection, models, transaction
from django.db.models import Q

from deposits.models import Deposit
from ledger.currency_form import ethereum_problems
from ledger.models import (
    Account,
    AccountKind,
    AccountScope,
    AccountType,
    ChartAccount,
    Currency,
    CurrencyType,
    Member,
    Operation,
    WalletGateway,
)
from ledger.money import MONEY_CONTEXT, fits_numeric, fraction_digits
from seeding.fields import shown
from seeding.files import SECTIONS, Problem, SeedEntry, SeedInvalid, read_files
from trades.models import Market, MarketState, Order, OrderSide, OrderState, Trade
from trades.services import markets_disable_for_currency
from withdraws.models import Withdraw

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
COIN_ONLY_FIELDS = ("wallet_gateway", "wallet_settings", "min_confirmations", "address_format")
REQUIRED_ON_CREATE = {
    "accounts": ("type", "kind", "currency_type", "scope"),
    "currencies": ("type", "symbol"),
    "members": ("email",),
    "markets": ("base_unit", "quote_unit"),
    "trades": (),
}


@dataclass
class SeedReport:
    counts: dict[str, Counter] = field(default_factory=lambda: {section: Counter() for section in SECTIONS})

    def lines(self) -> list[str]:
        return [
            f"{section}: {c[CREATED]} created, {c[UPDATED]} updated, {c[UNCHANGED]} unchanged"
            for section, c in self.counts.items()
        ]


class EntryRefused(Exception):
    def __init__(self, *problems: tuple[str, str]):
        self.problems = problems


def seed_load(*, paths: list[str], dry_run: bool = False) -> SeedReport:
    """Load the seed files; SeedInvalid (nothing written) on any problem. dry_run: report, then roll back."""
    entries = read_files(paths)
    _check_references(entries)
    report = SeedReport()
    problems: list[Problem] = []
    appliers = {"accounts": _apply_account, "currencies": _apply_currency, "members": _apply_member,
                "markets": _apply_market, "trades": _apply_trade}
    with transaction.atomic(durable=True):
        for section in SECTIONS:
            for entry in (e for e in entries if e.section == section):
                try:
                    report.counts[section][appliers[section](entry.values)] += 1
                except EntryRefused as refused:
                    problems += [entry.problem(name, message) for name, message in refused.problems]
        if problems:
            raise SeedInvalid(problems)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _check_references(entries: list[SeedEntry]) -> None:
    """Every currency, market and member an entry names exists, or is created by an earlier section of this load."""
    currencies = set(Currency.objects.values_list("id", flat=True))
    currencies |= {e.values["id"] for e in entries if e.section == "currencies"}
    markets = set(Market.objects.values_list("id", flat=True))
    markets |= {e.values["id"] for e in entries if e.section == "markets" and "id" in e.values}
    members = {uid.upper() for uid in Member.objects.values_list("uid", flat=True)}
    members |= {e.values["uid"].upper() for e in entries if e.section == "members"}
    problems = []
    for entry in entries:
        values = entry.values
        if entry.section == "markets":
            for name in ("base_unit", "quote_unit"):
                if name in values and values[name] not in currencies:
                    problems.append(entry.problem(name, f"unknown currency {shown(values[name])}"))
        elif entry.section == "trades":
            if values["market"] not in markets:
                problems.append(entry.problem("market", f"unknown market {shown(values['market'])}"))
            for name in ("ask_member_uid", "bid_member_uid"):
                if values[name].upper() not in members:
                    problems.append(entry.problem(name, f"unknown member {shown(values[name])}"))
    if problems:
        raise SeedInvalid(problems)


def _missing_on_create(section: str, values: dict) -> None:
    missing = [name for name in REQUIRED_ON_CREATE[section] if name not in values]
    if missing:
        raise EntryRefused(*[(name, "required to create") for name in missing])


def _changes(instance: models.Model, values: dict) -> dict:
    """The given fields whose value differs from the stored one (decimals by value, mappings by content)."""
    return {name: value for name, value in values.items() if getattr(instance, name) != value}


def _save_changes(instance: models.Model, changes: dict) -> None:
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.save(update_fields=[*changes, "updated_at"])


# --- accounts ----------------------------------------------------------------------------------------------


def _apply_account(values: dict) -> str:
    account = ChartAccount.objects.filter(code=values["code"]).first()
    if account is None:
        _missing_on_create("accounts", values)
        account = ChartAccount(**values)
        _check_account(account)
        account.save()
        return CREATED
    changes = _changes(account, values)
    if not changes:
        return UNCHANGED
    frozen = [name for name in changes if name != "description"]
    if frozen and Operation.objects.filter(code=account.code).exists():
        raise EntryRefused(*[(name, "cannot change once the account has postings") for name in frozen])
    for name, value in changes.items():
        setattr(account, name, value)
    _check_account(account)
    _save_changes(account, changes)
    return UPDATED


def _check_account(account: ChartAccount) -> None:
    if account.scope == AccountScope.MEMBER and not (
        account.type == AccountType.LIABILITY and account.kind in (AccountKind.MAIN, AccountKind.LOCKED)
    ):
        raise EntryRefused(("scope", "member only for a liability account of kind main or locked"))
    twin = (
        ChartAccount.objects.filter(type=account.type, kind=account.kind, currency_type=account.currency_type)
        .exclude(code=account.code)
        .first()
    )
    if twin is not None:
        raise EntryRefused(("kind", f"account {twin.code} has the same type, kind and currency_type"))


# --- currencies --------------------------------------------------------------------------------------------


def _apply_currency(values: dict) -> str:
    currency = Currency.objects.filter(pk=values["id"]).first()
    if currency is None:
        _missing_on_create("currencies", values)
        currency = Currency(**values)
        _set_gateway_default(currency, values)
        _check_currency(currency, values)
        currency.save()
        return CREATED
    was_enabled = currency.enabled
    changes = _changes(currency, values)
    if "type" in changes and _currency_in_use(currency):
        raise EntryRefused(("type", "cannot change once the currency has accounts, postings, deposits or withdraws"))
    for name, value in changes.items():
        setattr(currency, name, value)
    changes |= _set_gateway_default(currency, values)
    if not changes:
        return UNCHANGED
    _check_currency(currency, values)
    _save_changes(currency, changes)
    if was_enabled and not currency.enabled:
        markets_disable_for_currency(currency=currency)
    return UPDATED


def _set_gateway_default(currency: Currency, values: dict) -> dict:
    """A coin currency has a gateway (`manual` unless given), a fiat one none; returns the field if it changed."""
    if "wallet_gateway" in values:
        return {}
    wanted = (currency.wallet_gateway or WalletGateway.MANUAL) if currency.is_coin else None
    if currency.wallet_gateway == wanted:
        return {}
    currency.wallet_gateway = wanted
    return {"wallet_gateway": wanted}


def _check_currency(currency: Currency, values: dict) -> None:
    problems = []
    if currency.is_coin and currency.deposit_fee != 0:
        problems.append(("deposit_fee", f"must be 0 for a coin currency, got {shown(str(currency.deposit_fee))}"))
    if currency.type == CurrencyType.FIAT:
        problems += [(name, "only for coin currencies") for name in COIN_ONLY_FIELDS if name in values]
    if currency.wallet_gateway == WalletGateway.BITCOIND and not currency.wallet_settings.get("rpc_url"):
        problems.append(("wallet_settings", "the bitcoind gateway requires rpc_url"))
    if currency.wallet_gateway == WalletGateway.ETHEREUM:
        problems += ethereum_problems(currency)
    if problems:
        raise EntryRefused(*problems)


def _currency_in_use(currency: Currency) -> bool:
    return (
        Account.objects.filter(currency=currency).exists()
        or Operation.objects.filter(currency=currency).exists()
        or Deposit.objects.filter(currency=currency).exists()
        or Withdraw.objects.filter(currency=currency).exists()
    )


# --- members -----------------------------------------------------------------------------------------------


def _apply_member(values: dict) -> str:
    member = Member.objects.filter(uid__iexact=values["uid"]).first()
    # The uid is the key, compared ignoring case: the stored spelling stays.
    values = {name: value for name, value in values.items() if name != "uid" or member is None}
    if "email" in values:
        owners = Member.objects.filter(email=values["email"])
        owner = (owners.exclude(pk=member.pk) if member else owners).first()
        if owner is not None:
            raise EntryRefused(("email", f"already used by member {shown(owner.uid)}"))
    if member is None:
        _missing_on_create("members", values)
        Member.objects.create(**values)
        return CREATED
    changes = _changes(member, values)
    if not changes:
        return UNCHANGED
    _save_changes(member, changes)
    return UPDATED


# --- markets -----------------------------------------------------------------------------------------------


def _apply_market(values: dict) -> str:
    values = dict(values)
    enabled = values.pop("enabled", None)
    if "state" not in values and enabled is not None:
        values["state"] = MarketState.ENABLED if enabled else MarketState.DISABLED
    market = Market.objects.filter(pk=values["id"]).first()
    if market is None:
        _missing_on_create("markets", values)
        if values["id"] != values["base_unit"] + values["quote_unit"]:
            pair = values["base_unit"] + values["quote_unit"]
            raise EntryRefused(("id", f"must equal base_unit + quote_unit ({shown(pair)}), got {shown(values['id'])}"))
        fields = {name: value for name, value in values.items() if name not in ("base_unit", "quote_unit")}
        market = Market(
            base_unit_id=values["base_unit"], quote_unit_id=values["quote_unit"], **fields,
        )
        if "min_price" not in values:
            market.min_price = Decimal(1).scaleb(-market.price_precision)
        if "min_amount" not in values:
            market.min_amount = Decimal(1).scaleb(-market.amount_precision)
        _check_new_pair(market)
        _check_market(market)
        market.save()
        return CREATED
    for name in ("base_unit", "quote_unit"):
        if name in values and values[name] != getattr(market, f"{name}_id"):
            raise EntryRefused((name, f"cannot change (market {market.id} trades {market.base_unit_id}/{market.quote_unit_id})"))
    changes = _changes(market, {name: value for name, value in values.items() if name not in ("base_unit", "quote_unit")})
    if not changes:
        return UNCHANGED
    for name, value in changes.items():
        setattr(market, name, value)
    _check_market(market)
    _save_changes(market, changes)
    return UPDATED


def _check_new_pair(market: Market) -> None:
    if market.base_unit_id == market.quote_unit_id:
        raise EntryRefused(("quote_unit", "must differ from base_unit"))
    reverse = Market.objects.filter(base_unit=market.quote_unit_id, quote_unit=market.base_unit_id).first()
    if reverse is not None:
        raise EntryRefused(("quote_unit", f"the reverse market {shown(reverse.id)} exists"))


def _check_market(market: Market) -> None:
    problems = []
    if market.amount_precision + market.price_precision > 12:
        problems.append(("amount_precision", "amount_precision + price_precision must be <= 12"))
    for name, precision_name in (("min_price", "price_precision"), ("min_amount", "amount_precision")):
        value, precision = getattr(market, name), getattr(market, precision_name)
        smallest = Decimal(1).scaleb(-precision)
        if value < smallest or fraction_digits(value) > precision:
            problems.append((name, f"must be >= {smallest} with at most {precision} decimals ({precision_name}), got {shown(str(value))}"))
    if market.max_price != 0 and market.max_price < market.min_price:
        problems.append(("max_price", f"must be 0 (no maximum) or >= min_price {market.min_price}, got {shown(str(market.max_price))}"))
    if market.state == MarketState.ENABLED:
        disabled = Currency.objects.filter(pk__in=[market.base_unit_id, market.quote_unit_id], enabled=False)
        problems += [("state", f"enabled requires both currencies enabled ({shown(c.id)} is disabled)") for c in disabled]
    if problems:
        raise EntryRefused(*problems)


# --- trades ------------------------------------------------------------------------------------------------


def _apply_trade(values: dict) -> str:
    market = Market.objects.get(pk=values["market"])
    seller = Member.objects.get(uid__iexact=values["ask_member_uid"])
    buyer = Member.objects.get(uid__iexact=values["bid_member_uid"])
    price, volume, created_at = values["price"], values["volume"], values["created_at"]
    funds = values.get("funds")
    if funds is None:
        funds = MONEY_CONTEXT.multiply(price, volume)
        if not fits_numeric(funds):
            raise EntryRefused(("funds", f"price × volume = {funds} has more than 16 fractional digits: give funds"))
    taker_type = values.get("taker_type", "buy")
    second = created_at.replace(microsecond=0)
    same_second = Q(created_at__gte=second, created_at__lt=second + timedelta(seconds=1))
    if "id" in values:
        stored = Trade.objects.select_related("ask_member", "bid_member").filter(pk=values["id"]).first()
        if stored is not None:
            given = {"market": market.id, "price": price, "volume": volume, "funds": funds, "ask_member_uid": seller.uid,
                     "bid_member_uid": buyer.uid, "taker_type": taker_type, "created_at": second}
            actual = {"market": stored.market_id, "price": stored.price, "volume": stored.volume, "funds": stored.funds,
                      "ask_member_uid": stored.ask_member.uid, "bid_member_uid": stored.bid_member.uid,
                      "taker_type": stored.taker_type, "created_at": stored.created_at.replace(microsecond=0)}
            differing = [name for name in given if given[name] != actual[name]]
            if differing:
                raise EntryRefused(*[("id", f"trade {stored.pk} exists with a different {name}") for name in differing])
            return UNCHANGED
    elif Trade.objects.filter(same_second, market=market, ask_member=seller, bid_member=buyer, price=price, volume=volume).exists():
        return UNCHANGED
    return _import_trade(trade_id=values.get("id"), market=market, seller=seller, buyer=buyer, price=price,
                         volume=volume, funds=funds, taker_type=taker_type, created_at=created_at)


def _import_trade(*, trade_id: int | None, market: Market, seller: Member, buyer: Member, price: Decimal,
                  volume: Decimal, funds: Decimal, taker_type: str, created_at) -> str:
    """The two done orders (the taker's created second, so its id is larger) and the trade; no money moves."""
    common = {"market": market, "ask": market.base_unit_id, "bid": market.quote_unit_id, "ord_type": "limit",
              "price": price, "origin_volume": volume, "volume": 0, "locked": 0, "trades_count": 1,
              "state": OrderState.DONE, "created_at": created_at}
    ask = Order(side=OrderSide.ASK, member=seller, origin_locked=volume, funds_received=funds, fee=market.ask_fee, **common)
    bid = Order(side=OrderSide.BID, member=buyer, origin_locked=funds, funds_received=volume, fee=market.bid_fee, **common)
    for order in ((ask, bid) if taker_type == "buy" else (bid, ask)):
        order.save()
    previous = (
        Trade.objects.filter(market=market, created_at__lte=created_at).order_by("-created_at", "-id").first()
    )
    trend = "up" if previous is None or price >= previous.price else "down"
    Trade.objects.create(id=trade_id, market=market, price=price, volume=volume, funds=funds, ask=ask, bid=bid,
                         ask_member=seller, bid_member=buyer, trend=trend, created_at=created_at)
    if trade_id is not None:
        # Trades created later without an id must not draw an id already taken by an imported one.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('trades', 'id'), GREATEST(MAX(id), 1)) FROM trades"
            )
    return CREATED
