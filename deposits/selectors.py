"""Reads of deposits."""

from __future__ import annotations

from django.db.models import QuerySet

from deposits.filters import DepositFilter
from deposits.models import Deposit, PaymentAddress
from ledger.models import Currency, Member
from peatio_mgmt.idempotency import get_by_exact_tid


def deposit_list(*, member: Member | None = None, currency: Currency | None = None, state: str | None = None) -> QuerySet:
    """Deposits matching every given filter, newest first (by id), with member and currency joined."""
    filters = {"member": member, "currency": currency, "state": state}
    return DepositFilter(filters, queryset=Deposit.objects.select_related("member").order_by("-id")).qs


def deposit_get_by_tid(tid: str) -> Deposit:
    """The deposit whose tid is exactly `tid` (case-sensitive)."""
    return get_by_exact_tid(Deposit, tid)


def payment_address_get(*, member: Member, currency: Currency) -> PaymentAddress | None:
    """The member's deposit address in the currency, if one was issued."""
    return PaymentAddress.objects.filter(member=member, currency=currency).first()


def scannable_currency_ids() -> list[str]:
    """Coin currencies whose gateway detects deposits and that have at least one deposit address (§14.4)."""
    from withdraws.gateways import gateway_for

    with_addresses = set(PaymentAddress.objects.values_list("currency_id", flat=True).distinct())
    return [c.pk for c in Currency.objects.filter(pk__in=with_addresses, type="coin").order_by("pk")
            if gateway_for(c).detects_deposits]


def highest_derivation_indexes() -> list[tuple[str, int]]:
    """(currency, highest derivation index issued) for the currencies that derive addresses."""
    from django.db.models import Max

    return list(PaymentAddress.objects.filter(derivation_index__isnull=False).values("currency_id")
                .annotate(highest=Max("derivation_index")).order_by("currency_id")
                .values_list("currency_id", "highest"))
