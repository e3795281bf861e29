"""POST /trades (management-api.md §4.21): TradeViewSet, its input serializer and the Trade entity; POST /markets/list
and POST /markets/get (management-api-extensions.md §7.8–7.9): MarketViewSet and the Market entity."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger.selectors import member_named
from peatio_mgmt.management_api.fields import (
    AmountField,
    FromId,
    Invalid,
    JsonNumber,
    Limit,
    NumberField,
    Page,
    String,
    TimeField,
    iso_time,
)
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet
from trades import selectors
from trades.models import MarketState, Trade
from trades.representations import render_market


class EnabledMarket(String):
    """The id of an enabled market; anything else fails with the reference's phrase (a parameter rule, §1.5)."""

    def check(self, value):
        if not selectors.market_enabled_exists(value):
            raise Invalid("Market does not exist")
        return value


def in_order(ids: list[int], trades: list[Trade]) -> list[Trade]:
    """`trades` in the order of the page's `ids` (newest first, or ascending with `from_id`)."""
    by_id = {trade.pk: trade for trade in trades}
    return [by_id[pk] for pk in ids]


class TradeSerializer(Entity):
    """Trade entity (§3.6); `side` and `order_id` only with a uid filter (context `member_id`)."""

    id = serializers.RegexField(r"^[0-9]+$")
    price = NumberField()
    volume = NumberField()
    funds = NumberField()
    market = serializers.CharField()
    created_at = TimeField()
    ask_id = serializers.RegexField(r"^[0-9]+$")
    bid_id = serializers.RegexField(r"^[0-9]+$")
    ask_member_uid = serializers.CharField()
    bid_member_uid = serializers.CharField()
    taker_type = serializers.ChoiceField(choices=["buy", "sell"])
    side = serializers.ChoiceField(choices=["ask", "bid"], required=False, help_text="only with a uid filter")
    order_id = serializers.IntegerField(required=False, help_text="only with a uid filter")

    def to_representation(self, trade: Trade) -> dict:
        return self.render(trade, self.context.get("member_id"))

    @staticmethod
    def render(trade: Trade, member_id: int | None = None) -> dict:
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


class TradeListParams(Params):
    uid = String()
    market = EnabledMarket()
    page = Page()
    limit = Limit()
    from_id = FromId()


class TradeViewSet(ManagementViewSet):
    scopes = {"list": "read_trades"}

    @extend_schema(request=TradeListParams, responses={201: TradeSerializer(many=True)})
    def list(self, request):
        """List trades, newest first (`from_id`: oldest first), of a market and/or of a member (seller or buyer)."""
        values = self.validated(TradeListParams)
        member = member_named(values["uid"])
        context = {"member_id": member.pk if member is not None else None}
        return self.listed(selectors.trade_ids(member=member, market_id=values["market"]),
                           lambda ids: TradeSerializer(in_order(ids, selectors.trades_by_id(ids)), many=True,
                                                       context=context).data)


class MarketSerializer(Entity):
    """Market entity (management-api-extensions.md §6.4)."""

    id = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField(help_text="BTC/USD")
    base_unit = serializers.CharField()
    quote_unit = serializers.CharField()
    amount_precision = serializers.IntegerField()
    price_precision = serializers.IntegerField()
    min_price = AmountField()
    max_price = AmountField(help_text='"0.0" = no maximum')
    min_amount = AmountField()
    ask_fee = AmountField()
    bid_fee = AmountField()
    position = serializers.IntegerField()
    state = serializers.ChoiceField(choices=MarketState.values)
    created_at = TimeField()
    updated_at = TimeField()

    render = staticmethod(render_market)


class MarketListParams(Params):
    state = String(choices=MarketState.values)


class MarketGetParams(Params):
    symbol = String(required=True)


class MarketViewSet(ManagementViewSet):
    scopes = {"list": "read_markets", "get_by_symbol": "read_markets"}
    unpaginated = {"list"}

    @extend_schema(request=MarketListParams, responses={201: MarketSerializer(many=True)})
    def list(self, request):
        """Every market in one state (all states when absent), by position then id; not paginated."""
        values = self.validated(MarketListParams)
        return Response(MarketSerializer.represent_many(selectors.market_list(state=values["state"])), status=201)

    @extend_schema(request=MarketGetParams, responses={201: MarketSerializer})
    def get_by_symbol(self, request):
        """One market by its id, as stored or entirely in uppercase, in any state."""
        values = self.validated(MarketGetParams)
        return Response(MarketSerializer.represent(selectors.market_get(symbol=values["symbol"])), status=201)
