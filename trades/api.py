"""POST /trades — list trades (management-api.md §4.21)."""

from __future__ import annotations

from ledger.selectors import member_named
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import Invalid, Limit, Page, Params, String
from peatio_mgmt.management_api.render import JsonNumber, ListResult, iso_time, paginate
from peatio_mgmt.management_api.routes import endpoint
from trades import selectors
from trades.models import Trade


class EnabledMarket(String):
    """The id of an enabled market; anything else fails with the reference's phrase (a parameter rule, §1.5)."""

    def check(self, value, lookups):
        if not selectors.market_enabled_exists(value):
            raise Invalid("Market does not exist")
        return value


def render_trade(trade: Trade, member_id: int | None) -> dict:
    body = {
        "id": str(trade.pk),
        "price": JsonNumber(trade.price),
        "volume": JsonNumber(trade.volume),
        "funds": JsonNumber(trade.funds),
        "market": trade.market_id,
        "created_at": iso_time(trade.created_at),
        "ask_id": str(trade.ask_id),
        "bid_id": str(trade.bid_id),
        "ask_member_uid": trade.ask_member.uid,
        "bid_member_uid": trade.bid_member.uid,
        "taker_type": trade.taker_type,
    }
    if member_id is not None:
        # A member on both sides of a trade is reported as the seller (§3.6).
        seller = trade.ask_member_id == member_id
        body["side"] = "ask" if seller else "bid"
        body["order_id"] = trade.ask_id if seller else trade.bid_id
    return body


@endpoint(params=Params(String("uid"), EnabledMarket("market"), Page(), Limit()), response=entities.many(entities.TRADE))
def trade_list(values: dict) -> ListResult:
    """List trades, newest first, of a market and/or of a member (seller or buyer)."""
    member = member_named(values["uid"])
    ids, total = paginate(selectors.trade_ids(member=member, market_id=values["market"]),
                          page=values["page"], limit=values["limit"])
    member_id = member.pk if member is not None else None
    trades = [render_trade(trade, member_id) for trade in selectors.trades_by_id(ids)]
    return ListResult(trades, total, values["page"], values["limit"])
