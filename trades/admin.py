from django.contrib import admin

from operators.audited import AuditedChanges
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from trades.models import Market, Order, Trade


@admin.register(Market)
class MarketAdmin(AuditedChanges, admin.ModelAdmin):
    list_display = ("id", "base_unit", "quote_unit", "state", "amount_precision", "price_precision", "ask_fee", "bid_fee", "position")
    list_filter = ("state",)
    search_fields = ("id",)

    def get_readonly_fields(self, request, obj=None):
        # A market's pair is immutable once created (domain.md §2.9).
        return ("id", "base_unit", "quote_unit") if obj is not None else ()


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("id", "market", "side", "member", "price", "origin_volume", "volume", "state", "created_at")
    list_filter = ("state", "side", "market")
    search_fields = ("member__uid",)
    list_select_related = ("member",)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ("id", "market", "price", "volume", "funds", "ask_member", "bid_member", "taker_type", "trend", "created_at")
    list_filter = ("market", "trend")
    search_fields = ("ask_member__uid", "bid_member__uid")
    list_select_related = ("ask_member", "bid_member")
