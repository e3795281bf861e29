"""The filters of POST /trades (management-api.md §4.21), fed with the route's validated parameters."""

from django.db.models import Q

from peatio_mgmt.management_api.filters import ParamsFilterSet, ValueFilter
from trades.models import Trade


class TradeFilter(ParamsFilterSet):
    market = ValueFilter(field_name="market_id")
    member = ValueFilter(method="seller_or_buyer")

    class Meta:
        model = Trade
        fields = ()

    def seller_or_buyer(self, queryset, name, member):
        return queryset.filter(Q(ask_member=member) | Q(bid_member=member))
