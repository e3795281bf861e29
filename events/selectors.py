"""Reads of the event stream: the pull page (management-api.md 4.23) and the console's figures."""

from __future__ import annotations

from django.db.models import Max, Min

from events.models import Event, EventPartner
from events.push import event_json
from peatio_mgmt.errors import BusinessRuleError


def event_page(*, from_id: int, limit: int) -> list[str]:
    """The sequenced events after `from_id`, ascending, at most `limit`, as Event JSON texts (the same text every
    push of them carries). Below the oldest retained id F, a from_id < F - 1 is refused."""
    oldest = Event.objects.aggregate(first=Min("seq"))["first"]
    if oldest is not None and from_id < oldest - 1:
        raise BusinessRuleError(f"Events before {oldest} are no longer available")
    rows = Event.objects.filter(seq__gt=from_id).order_by("seq").values_list("seq", "body")[:limit]
    return [event_json(seq, body) for seq, body in rows if seq is not None]  # seq > from_id: never None


def partner_lag(partner: EventPartner, top: int | None = None) -> int:
    """Events after the partner's cursor: max seq - cursor."""
    top = Event.objects.aggregate(top=Max("seq"))["top"] or 0 if top is None else top
    return max(top - partner.cursor, 0)
