"""The event stream's console pages and actions (coin-deposits-ethereum-events.md §16.6, Part D §V 7, 12): each
action confirmed first, then run through events.services with its audit record; only technical and admin (and
superadmin) may act; every role that reads deposits reads the events."""

from decimal import Decimal

import pytest

from deposits import services as deposits
from events.models import EventDelivery, EventPartner
from events.services import events_sequence
from operators.models import AuditRecord
from tests.operators.conftest import console  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]
PARTNERS, DELIVERIES, EVENTS = ("/admin/events/eventpartner/", "/admin/events/eventdelivery/",
                                "/admin/events/event/")


@pytest.fixture
def stream(member, usd):
    deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("1"), tid="TIDCONSOLE1", accept=True,
                            request_digest="x")
    events_sequence()
    partner = EventPartner.objects.create(name="p1", url="https://p1.example", cursor=2)
    dead = partner.deliveries.create(event_seq=1, state="dead", attempts=8, tries=8,
                                     first_try_at="2026-01-01T00:00Z", last_try_at="2026-01-01T00:00Z")
    return partner, dead


def test_pages_show_events_partners_and_deliveries(console, stream):  # noqa: F811
    assert "TIDCONSOLE1" in console("support").get(EVENTS + "?q=TIDCONSOLE1").content.decode()
    client = console("technical")
    # an event shows a deposit or a withdraw: read by the roles that read those (§16.6), not by technical
    assert client.get(EVENTS).status_code == 403
    page = client.get(PARTNERS).content.decode()
    assert "p1" in page and "Rewind" in page
    assert client.get(DELIVERIES + "?state__exact=dead").status_code == 200


def test_replay_is_confirmed_then_done_and_audited(console, stream):  # noqa: F811
    _, dead = stream
    client = console("admin")
    confirmation = client.post(DELIVERIES, {"action": "replay", "_selected_action": [dead.pk]})
    assert "dead -&gt; replay" in confirmation.content.decode()
    assert EventDelivery.objects.get().state == "dead"
    client.post(DELIVERIES, {"action": "replay", "_selected_action": [dead.pk], "post": "yes"})
    assert (EventDelivery.objects.get().state, EventDelivery.objects.get().attempts) == ("replay", 0)
    assert AuditRecord.objects.get().action == "event_delivery_replay"


def test_rewind_and_retry_now(console, stream):  # noqa: F811
    partner, _ = stream
    client = console("technical")
    client.post(PARTNERS, {"action": "rewind", "_selected_action": [partner.pk], "post": "yes", "to": "5"})
    assert EventPartner.objects.get().cursor == 2  # beyond the cursor: refused
    client.post(PARTNERS, {"action": "rewind", "_selected_action": [partner.pk], "post": "yes", "to": "0"})
    assert EventPartner.objects.get().cursor == 0
    EventPartner.objects.update(next_attempt_at="2030-01-01T00:00Z")
    client.post(PARTNERS, {"action": "retry_now", "_selected_action": [partner.pk], "post": "yes"})
    assert EventPartner.objects.get().next_attempt_at is None
    assert sorted(AuditRecord.objects.values_list("action", flat=True)) == ["event_partner_retry_now",
                                                                            "event_partner_rewind"]


def test_support_reads_events_but_cannot_act(console, stream):  # noqa: F811
    _, dead = stream
    client = console("support")
    assert client.get(EVENTS).status_code == 200
    assert client.get(PARTNERS).status_code == 403
    client.post(DELIVERIES, {"action": "replay", "_selected_action": [dead.pk], "post": "yes"})
    assert EventDelivery.objects.get().state == "dead"
