"""The filters of POST /withdraws (management-api.md §4.6) and POST /beneficiaries (management-api-extensions.md
§7.11), fed with the routes' validated parameters.

The values are already typed and resolved (a Member, a Currency, a state of the enum): a plain form field passes
them through without a second look-up; None or "" means no filter (§1.7).
"""

from peatio_mgmt.management_api.filters import ParamsFilterSet, ValueFilter
from withdraws.models import Beneficiary, Withdraw


class WithdrawFilter(ParamsFilterSet):
    member = ValueFilter()
    currency = ValueFilter()
    state = ValueFilter()

    class Meta:
        model = Withdraw
        fields = ()


class BeneficiaryFilter(ParamsFilterSet):
    member = ValueFilter()
    currency = ValueFilter()
    state = ValueFilter()

    class Meta:
        model = Beneficiary
        fields = ()
