"""Reads of markets and trades."""

from django.db.models import QuerySet

from ledger.models import Member
from trades.filters import TradeFilter
from trades.models import Market, MarketState, Trade


def market_enabled_exists(market_id: str) -> bool:
    return Market.objects.filter(id=market_id, state=MarketState.ENABLED).exists()


def trade_ids(*, member: Member | None = None, market_id: str | None = None) -> QuerySet:
    """Ids of the trades newest first; page them, then read the rows with `trades_by_id`.

    Ids alone come from the (market_id, id) index without touching the table, so a quiet market is not found by
    walking every trade backwards. The member filter (seller or buyer) is an OR of the (ask_member_id, id) and
    (bid_member_id, id) indexes, which PostgreSQL answers with a BitmapOr: the cost follows that member's trades.
    """
    trades = TradeFilter({"market": market_id, "member": member}, queryset=Trade.objects.all()).qs
    return trades.order_by("-id").values_list("id", flat=True)


def trades_by_id(ids: list[int]) -> list[Trade]:
    """The trades of a page of ids, newest first, with both members (for their uids), in one query."""
    if not ids:
        return []
    return list(Trade.objects.filter(id__in=ids).select_related("ask_member", "bid_member").order_by("-id"))
