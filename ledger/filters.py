"""The filters of the journal lists /assets, /expenses, /revenues, /liabilities (management-api.md §4.11, §4.18),
fed with the route's validated parameters (a Currency, a Member, text, datetimes).

Every filter is an equality or range on a column of the (type, ...) indexes of domain.md §2.5. The stored
reference_type is always lowercase, so comparing it with the lowercased filter ignores case and still uses the
(type, reference_type, id) index (UPPER()/ILIKE would not). None or "" means no filter (§1.7).
"""

from ledger.models import Operation
from peatio_mgmt.management_api.filters import ParamsFilterSet, ValueFilter


class OperationFilter(ParamsFilterSet):
    currency = ValueFilter()
    member = ValueFilter()
    reference_type = ValueFilter(method="lowercase")
    time_from = ValueFilter(field_name="created_at", lookup_expr="gte")
    time_to = ValueFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Operation
        fields = ()

    def lowercase(self, queryset, name, value):
        return queryset.filter(reference_type=value.lower())
