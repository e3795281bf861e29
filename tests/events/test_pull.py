"""POST /events (management-api.md 4.23, Part D §V 10): the sequenced events after from_id, ascending."""

from decimal import Decimal

import pytest

from deposits import services as deposits
from events.models import EventPartner
from events.services import events_prune, events_sequence
from tests.events.conftest import outbox

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]


@pytest.fixture
def stream(member, usd):
    """Three accepted deposits: events 1..6."""
    for n in range(3):
        deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("1"), accept=True, request_digest=str(n))
    events_sequence()


def test_events_from_the_start_ascending(api, stream):
    response = api.post("/events", {})
    assert response.status_code == 201
    body = response.json()
    assert [e["id"] for e in body] == [1, 2, 3, 4, 5, 6]
    assert list(body[1]) == ["id", "name", "created_at", "record", "changes"]
    stored = outbox()
    assert [{k: v for k, v in e.items() if k != "id"} for e in body] == [
        {k: v for k, v in e.items() if k != "seq"} for e in stored]


def test_from_id_and_limit(api, stream):
    assert [e["id"] for e in api.post("/events", {"from_id": 2, "limit": 3}).json()] == [3, 4, 5]
    assert api.post("/events", {"from_id": 6}).json() == []


def test_unsequenced_events_are_not_answered(api, member, usd):
    deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("1"), request_digest="x")
    assert api.post("/events", {}).json() == []


def test_contract_errors(api, stream):
    response = api.post("/events", {"from_id": -1, "limit": 0})
    assert response.status_code == 422
    assert response.json() == {"error": "from_id does not have a valid value, limit must be in range: 1..1000."}
    assert api.post("/events", {"limit": 1001}).json() == {"error": "limit must be in range: 1..1000."}


def test_a_pull_below_the_retained_events_is_refused(api, stream, settings):
    settings.EVENTS_RETENTION_DAYS = 0
    EventPartner.objects.create(name="p", url="https://p.example", cursor=4)
    assert events_prune() == 4  # at or below the partner's cursor
    assert api.post("/events", {"from_id": 3}).json() == {"errors": ["Events before 5 are no longer available"]}
    assert [e["id"] for e in api.post("/events", {"from_id": 4}).json()] == [5, 6]


def test_prune_keeps_the_last_event_and_dead_letters(stream, settings):
    settings.EVENTS_RETENTION_DAYS = 0
    partner = EventPartner.objects.create(name="p", url="https://p.example", cursor=6)
    partner.deliveries.create(event_seq=3, state="dead", first_try_at="2026-01-01T00:00Z",
                              last_try_at="2026-01-01T00:00Z")
    assert events_prune() == 2
    assert [e["seq"] for e in outbox()] == [3, 4, 5, 6]
