"""Reads of withdraws."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from ledger.models import Currency, Member
from ledger.money import MONEY_CONTEXT, ZERO
from peatio_mgmt.idempotency import get_by_exact_tid
from withdraws.filters import WithdrawFilter
from withdraws.models import Withdraw
from withdraws.states import UNDER_WAY


def withdraw_list(*, member: Member | None = None, currency: Currency | None = None, state: str | None = None) -> QuerySet:
    """Withdraws matching every given filter, newest first (by id), with the member joined."""
    filters = {"member": member, "currency": currency, "state": state}
    return WithdrawFilter(filters, queryset=Withdraw.objects.select_related("member").order_by("-id")).qs


def withdraw_get_by_tid(tid: str) -> Withdraw:
    """The withdraw whose tid is exactly `tid` (case-sensitive)."""
    return get_by_exact_tid(Withdraw, tid)


def withdraw_is_quick(withdraw: Withdraw, *, now: datetime | None = None) -> bool:
    """The quick rule (domain.md §6.2): may the withdraw be paid without an operator?

    Its sum plus the sums of the member's OTHER withdraws in the currency that are under way (processing,
    confirming, succeed, errored) created in the last 24 h / 72 h stays within each limit (`<=`; limit 0: never).
    One query on the (member, currency, state, created_at) index.
    """
    now = now or timezone.now()
    currency = withdraw.currency
    totals = (
        Withdraw.objects.filter(
            member_id=withdraw.member_id, currency_id=currency.pk, state__in=UNDER_WAY,
            created_at__gte=now - timedelta(hours=72), created_at__lte=now,
        )
        .exclude(pk=withdraw.pk)
        .aggregate(day=Sum("sum", filter=Q(created_at__gte=now - timedelta(hours=24))), three_days=Sum("sum"))
    )
    day = MONEY_CONTEXT.add(withdraw.sum, totals["day"] or ZERO)
    three_days = MONEY_CONTEXT.add(withdraw.sum, totals["three_days"] or ZERO)
    return day <= currency.withdraw_limit_24h and three_days <= currency.withdraw_limit_72h
