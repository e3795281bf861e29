"""Invariants 13 and 14 (coin-deposits-ethereum-events.md, "Additions to §11"): the books check reports an event
stream that no longer mirrors the records, a gap in the public ids and a partner cursor out of bounds."""

from decimal import Decimal

import pytest
from django.db import connection

from deposits import services as deposits
from events.models import DeliveryState, EventDelivery, EventPartner
from events.services import events_sequence
from ledger.books import books_check

# The sequencer numbers only what other transactions committed: the tests commit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart"), pytest.mark.books_breached]


def _checks(report) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for breach in report.breaches:
        found.setdefault(breach.check, []).append(breach.detail)
    return found


def _sql(query: str, params=()) -> None:
    with connection.cursor() as cursor:
        # the outbox is append-only: the test removes its own trigger to break the stream on purpose
        cursor.execute("ALTER TABLE events DISABLE TRIGGER USER")
        cursor.execute(query, params)
        cursor.execute("ALTER TABLE events ENABLE TRIGGER USER")


@pytest.fixture
def deposits_made(member, usd):
    made = [deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("5"), tid=f"TIDINV{n}",
                                    accept=True, request_digest=f"d{n}") for n in range(3)]
    events_sequence()
    return made


def test_a_stream_written_by_the_services_is_clean(deposits_made):
    assert {"event_sequence", "event_mirror", "event_cursor"}.isdisjoint(_checks(books_check()))


def test_a_missing_latest_event_and_a_gap_in_the_public_ids_are_breaches(deposits_made):
    deposit = deposits_made[1]
    _sql("DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE record_type = 'deposit' AND record_id = %s)",
         [deposit.pk])

    found = _checks(books_check())

    assert any(f"deposit {deposit.pk}:" in detail and "latest event state submitted" in detail
               for detail in found["event_mirror"])
    assert found["event_sequence"]


def test_a_cursor_beyond_the_stream_and_a_failing_delivery_below_it_are_breaches(deposits_made):
    partner = EventPartner.objects.create(name="books-partner", url="http://127.0.0.1:9/", cursor=10_000)
    EventDelivery.objects.create(partner=partner, event_seq=1, state=DeliveryState.FAILING,
                                 first_try_at="2026-12-01T00:00:00Z", last_try_at="2026-12-01T00:00:00Z")

    details = _checks(books_check())["event_cursor"]

    assert any("cursor 10000 outside" in d for d in details)
    assert any("delivery of event 1 is failing at or below the cursor 10000" in d for d in details)
