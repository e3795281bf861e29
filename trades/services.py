"""Writes of the trades app's reference data."""

from django.db.models import Q
from django.utils import timezone

from ledger.models import Currency
from trades.models import Market, MarketState


def markets_disable_for_currency(*, currency: Currency) -> int:
    """A disabled currency cannot be traded: every market using it becomes `disabled` (domain.md §2.2)."""
    return (
        Market.objects.filter(Q(base_unit=currency) | Q(quote_unit=currency))
        .exclude(state=MarketState.DISABLED)
        .update(state=MarketState.DISABLED, updated_at=timezone.now())
    )
