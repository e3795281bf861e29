"""Reads of markets and trades."""

from django.db.models import QuerySet

from ledger.models import Member
from ledger.selectors import stored_code
from peatio_mgmt.errors import RecordNotFound
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


def market_list(*, state: str | None = None) -> QuerySet:
    """Every market in one state (all states when None), by position then id (management-api-extensions.md §7.8)."""
    markets = Market.objects.order_by("position", "id")
    return markets.filter(state=state) if state else markets


def market_get(*, symbol: str) -> Market:
    """The market whose id is `symbol` as stored or entirely in uppercase, in any state; RecordNotFound otherwise."""
    market_id = stored_code(symbol)
    market = Market.objects.filter(id=market_id).first() if market_id else None
    if market is None:
        raise RecordNotFound()
    return market
