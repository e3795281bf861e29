"""The filters of POST /trades (management-api.md §4.21), fed with the route's validated parameters."""

import django_filters
from django.db.models import Q

from trades.models import Trade


class TradeFilter(django_filters.FilterSet):
    market = django_filters.Filter(field_name="market_id")
    member = django_filters.Filter(method="seller_or_buyer")

    class Meta:
        model = Trade
        fields = ()

    def seller_or_buyer(self, queryset, name, member):
        return queryset.filter(Q(ask_member=member) | Q(bid_member=member))
