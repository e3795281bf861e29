"""Reads of deposits."""

from __future__ import annotations

from django.db.models import QuerySet

from deposits.filters import DepositFilter
from deposits.models import Deposit
from ledger.models import Currency, Member
from peatio_mgmt.idempotency import get_by_exact_tid


def deposit_list(*, member: Member | None = None, currency: Currency | None = None, state: str | None = None) -> QuerySet:
    """Deposits matching every given filter, newest first (by id), with member and currency joined."""
    filters = {"member": member, "currency": currency, "state": state}
    return DepositFilter(filters, queryset=Deposit.objects.select_related("member").order_by("-id")).qs


def deposit_get_by_tid(tid: str) -> Deposit:
    """The deposit whose tid is exactly `tid` (case-sensitive)."""
    return get_by_exact_tid(Deposit, tid)
