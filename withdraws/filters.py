"""The filters of POST /withdraws (management-api.md §4.6) and POST /beneficiaries (management-api-extensions.md
§7.11), fed with the routes' validated parameters.

The values are already typed and resolved (a Member, a Currency, a state of the enum): a plain form field passes
them through without a second look-up; None or "" means no filter (§1.7).
"""

import django_filters

from withdraws.models import Beneficiary, Withdraw


class WithdrawFilter(django_filters.FilterSet):
    member = django_filters.Filter()
    currency = django_filters.Filter()
    state = django_filters.Filter()

    class Meta:
        model = Withdraw
        fields = ()


class BeneficiaryFilter(django_filters.FilterSet):
    member = django_filters.Filter()
    currency = django_filters.Filter()
    state = django_filters.Filter()

    class Meta:
        model = Beneficiary
        fields = ()
