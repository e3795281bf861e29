"""The entities of the ledger's new routes as the contract writes them (management-api-extensions.md §6.2, §6.3,
§3.1): plain dicts in the contract's field order, amounts as exact decimal strings, times in UTC seconds."""

from __future__ import annotations

from decimal import Decimal

from ledger.models import Currency, Member
from peatio_mgmt.management_api.fields import amount, iso_time

CURRENCY_AMOUNTS = ("deposit_fee", "min_deposit_amount", "min_collection_amount", "withdraw_fee", "min_withdraw_amount",
                    "withdraw_limit_24h", "withdraw_limit_72h")


def render_member(member: Member) -> dict:
    return {
        "uid": member.uid,
        "email": member.email,
        "level": member.level,
        "role": member.role,
        "group": member.group,
        "state": member.state,
        "created_at": iso_time(member.created_at),
    }


def render_currency(currency: Currency) -> dict:
    """Never wallet_gateway, wallet_settings (may hold RPC credentials) or options; coin-only fields for coins."""
    body = {
        "id": currency.id,
        "code": currency.id,
        "name": currency.name,
        "symbol": currency.symbol,
        "type": currency.type,
        "enabled": currency.enabled,
        "precision": currency.precision,
        "base_factor": currency.base_factor,
        "position": currency.position,
        **{name: amount(getattr(currency, name)) for name in CURRENCY_AMOUNTS},
        "icon_url": currency.icon_url,
    }
    if currency.is_coin:
        body["min_confirmations"] = currency.min_confirmations
        body["address_format"] = currency.address_format
    body["created_at"] = iso_time(currency.created_at)
    body["updated_at"] = iso_time(currency.updated_at)
    return body


def render_balance(row: tuple[str, Decimal, Decimal]) -> dict:
    """A row of ledger.selectors.account_balances: (uid, balance, locked)."""
    uid, balance, locked = row
    return {"uid": uid, "balance": amount(balance), "locked": amount(locked)}
