from decimal import Decimal

from django import template

from ledger.money import format_amount

register = template.Library()


@register.filter
def amount(value: Decimal) -> str:
    """Exact amounts as the ledger renders them ("750.77", "100.0")."""
    return format_amount(value)
