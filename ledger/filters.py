"""The filters of the journal lists /assets, /expenses, /revenues, /liabilities (management-api.md §4.11, §4.18),
fed with the route's validated parameters (a Currency, a Member, text, datetimes).

Every filter is an equality or range on a column of the (type, ...) indexes of domain.md §2.5. The stored
reference_type is always lowercase, so comparing it with the lowercased filter ignores case and still uses the
(type, reference_type, id) index (UPPER()/ILIKE would not). None or "" means no filter (§1.7).
"""

import django_filters

from ledger.models import Operation


class OperationFilter(django_filters.FilterSet):
    currency = django_filters.Filter()
    member = django_filters.Filter()
    reference_type = django_filters.Filter(method="lowercase")
    time_from = django_filters.Filter(field_name="created_at", lookup_expr="gte")
    time_to = django_filters.Filter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Operation
        fields = ()

    def lowercase(self, queryset, name, value):
        return queryset.filter(reference_type=value.lower())
