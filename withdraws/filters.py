"""The filters of POST /withdraws (management-api.md §4.6), fed with the route's validated parameters.

The values are already typed and resolved (a Member, a Currency, a state of the enum): a plain form field passes
them through without a second look-up; None or "" means no filter (§1.7).
"""

from withdraws.models import Withdraw
from peatio_mgmt.management_api.filters import ParamsFilterSet, ValueFilter


class WithdrawFilter(ParamsFilterSet):
    member = ValueFilter()
    currency = ValueFilter()
    state = ValueFilter()

    class Meta:
        model = Withdraw
        fields = ()
