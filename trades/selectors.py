"""Reads of markets and trades."""

from django.db.models import Q, QuerySet

from ledger.models import Member
from trades.models import Market, MarketState, Trade


def market_enabled_exists(market_id: str) -> bool:
    return Market.objects.filter(id=market_id, state=MarketState.ENABLED).exists()


def trade_list(*, member: Member | None = None, market_id: str | None = None) -> QuerySet:
    """Trades newest first, with both members (for their uids) read in the same query.

    The member filter (seller or buyer) is an OR of the (ask_member_id, id) and (bid_member_id, id) indexes,
    which PostgreSQL answers with a BitmapOr of both: the cost follows that member's trades, not the table.
    """
    trades = Trade.objects.all()
    if market_id is not None:
        trades = trades.filter(market_id=market_id)
    if member is not None:
        trades = trades.filter(Q(ask_member=member) | Q(bid_member=member))
    return trades.select_related("ask_member", "bid_member").order_by("-id")
