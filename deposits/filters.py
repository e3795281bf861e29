"""The filters of POST /deposits (management-api.md §4.2), fed with the route's validated parameters.

The values are already typed and resolved (a Member, a Currency, a state of the enum): a plain form field passes
them through without a second look-up; None or "" means no filter (§1.7).
"""

import django_filters

from deposits.models import Deposit


class DepositFilter(django_filters.FilterSet):
    member = django_filters.Filter()
    currency = django_filters.Filter()
    state = django_filters.Filter()

    class Meta:
        model = Deposit
        fields = ()
