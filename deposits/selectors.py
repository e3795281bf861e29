"""Reads of deposits."""

from __future__ import annotations

from django.db.models import QuerySet

from deposits.models import Deposit
from ledger.models import Currency, Member
from peatio_mgmt.errors import RecordNotFound


def deposit_list(*, member: Member | None = None, currency: Currency | None = None, state: str | None = None) -> QuerySet:
    """Deposits matching every given filter, newest first (by id), with member and currency joined."""
    deposits = Deposit.objects.select_related("member").order_by("-id")
    if member is not None:
        deposits = deposits.filter(member=member)
    if currency is not None:
        deposits = deposits.filter(currency=currency)
    if state:
        deposits = deposits.filter(state=state)
    return deposits


def deposit_get_by_tid(tid: str) -> Deposit:
    """The deposit whose tid is exactly `tid` (case-sensitive)."""
    deposit = Deposit.objects.select_related("member").filter(tid=tid).first()
    if deposit is None:
        raise RecordNotFound()
    return deposit
