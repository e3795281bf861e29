"""Push delivery (coin-deposits-ethereum-events.md §16.4, Part D §V 4, 7, 8, 11–13) against the reference receiver
on a local port: signed afresh, in order, at least once; rejections dead-letter, other failures back off."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from deposits import services as deposits
from events.models import EventDelivery, EventPartner
from events.services import (
    deliveries_replay,
    events_sequence,
    partner_deliver,
    partner_rewind,
    partners_due,
    partners_sync,
)
from operators.models import AuditRecord
from peatio_mgmt.management_api.signing import b64url
from tests.factories import fund_member
from withdraws import services as withdraws

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]
NAME = "backend-1.partner.test"


@pytest.fixture
def fast(settings):
    settings.EVENTS_RETRY_BASE_DELAY = 0.05
    settings.EVENTS_RETRY_MAX_DELAY = 0.2
    settings.EVENTS_MAX_ATTEMPTS = 3
    settings.EVENTS_HTTP_TIMEOUT = 1


def deposits_made(member, usd, count, accept=True):
    for n in range(count):
        deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("1"), accept=accept,
                                request_digest=f"{time.monotonic()}-{n}")
    events_sequence()


def setup_partner(configure_partners, partner, **entry) -> EventPartner:
    loaded = configure_partners({NAME: {"url": partner.url, "start_at": 0, **entry}})
    partners_sync(config=loaded)
    return EventPartner.objects.get(name=NAME)


def deliver_until_idle(partner_row, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        partner_deliver(partner_id=partner_row.pk)
        row = EventPartner.objects.get(pk=partner_row.pk)
        if partner_row.pk not in partners_due() and row.next_attempt_at is None:
            return row
        time.sleep(0.05)
    return EventPartner.objects.get(pk=partner_row.pk)


def test_events_are_pushed_in_order_signed_as_the_spec_says(api, member, usd, partner, configure_partners, fast):
    deposits_made(member, usd, 3)
    row = deliver_until_idle(setup_partner(configure_partners, partner, headers={"X-Api-Key": "secret"}))
    assert partner.receiver.received == [1, 2, 3, 4, 5, 6]
    assert row.cursor == 6 and row.consecutive_failures == 0
    pulled = api.post("/events", {}).json()
    assert [e for e in partner.receiver.applied] == json.loads(json.dumps(pulled))
    token = json.loads(partner.bodies[0])
    claims = json.loads(__import__("base64").urlsafe_b64decode(token["payload"] + "=="))
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == ("peatio", NAME, 60)
    assert token["signatures"][0]["protected"] == b64url(b'{"alg":"RS256"}')
    assert token["signatures"][0]["header"] == {"kid": "peatio"}
    headers = partner.headers[0]
    assert (headers["X-Peatio-Event-Id"], headers["X-Peatio-Event-Name"]) == ("1", "model.deposit.created")
    assert headers["User-Agent"] == "peatio-mgmt-events/1" and headers["X-Api-Key"] == "secret"
    assert set(EventDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_poison_event_becomes_dead_the_stream_goes_on_and_a_replay_delivers_it(
        member, usd, partner, configure_partners, fast, django_user_model):
    deposits_made(member, usd, 2)
    partner.faults = lambda event_id: (422, {}) if event_id == 2 else None
    row = deliver_until_idle(setup_partner(configure_partners, partner))
    assert partner.receiver.received == [1, 3, 4]
    dead = EventDelivery.objects.get(event_seq=2)
    assert (dead.state, dead.attempts, dead.last_status) == ("dead", 3, 422)
    assert row.cursor == 4

    partner.faults = lambda event_id: None
    operator = django_user_model.objects.create(username="op", email="op@example.com")
    assert deliveries_replay(delivery_ids=[dead.pk], actor=operator) == 1
    deliver_until_idle(row)
    assert partner.receiver.received == [1, 3, 4, 2]  # the replay arrives after later ids
    assert EventDelivery.objects.get(event_seq=2).state == "delivered"
    assert AuditRecord.objects.filter(action="event_delivery_replay").count() == 1


@pytest.mark.parametrize("answer", [(500, {}), (401, {}), (404, {}), (302, {"Location": "http://127.0.0.1:1/"}),
                                    (503, {"Retry-After": "0"})])
def test_endpoint_failures_back_off_and_never_dead_letter(member, usd, partner, configure_partners, fast, answer):
    deposits_made(member, usd, 1, accept=False)
    failures = {"left": 5}

    def fault(event_id):
        if failures["left"]:
            failures["left"] -= 1
            return answer
        return None

    partner.faults = fault
    row = setup_partner(configure_partners, partner)
    partner_deliver(partner_id=row.pk)
    row.refresh_from_db()
    assert row.consecutive_failures == 1 and row.next_attempt_at is not None and row.cursor == 0
    assert str(answer[0]) in row.last_error
    row = deliver_until_idle(row)
    assert partner.receiver.received == [1] and row.cursor == 1
    delivery = EventDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.tries) == ("delivered", 0, 6)


def test_a_timeout_is_an_endpoint_failure(member, usd, partner, configure_partners, fast, settings):
    settings.EVENTS_HTTP_TIMEOUT = 0.2
    deposits_made(member, usd, 1, accept=False)
    slow = {"first": True}

    def fault(event_id):
        if slow["first"]:
            slow["first"] = False
            time.sleep(0.6)
            return (200, {})
        return None

    partner.faults = fault
    row = deliver_until_idle(setup_partner(configure_partners, partner))
    assert "timeout" in EventPartner.objects.get().last_error
    assert partner.receiver.received == [1] and row.cursor == 1


def test_backoff_doubles_and_honours_retry_after(member, usd, partner, configure_partners, settings):
    settings.EVENTS_RETRY_BASE_DELAY, settings.EVENTS_RETRY_MAX_DELAY = 1, 300
    deposits_made(member, usd, 1, accept=False)
    partner.faults = lambda event_id: (503, {"Retry-After": "40"})
    row = setup_partner(configure_partners, partner)

    def gaps(tries: int) -> list[int]:
        """The delay each failed try sets, in seconds (the next try is forced at once each time)."""
        seen = []
        for _ in range(tries):
            EventPartner.objects.filter(pk=row.pk).update(next_attempt_at=None)
            before = time.time()
            partner_deliver(partner_id=row.pk)
            row.refresh_from_db()
            seen.append(round(row.next_attempt_at.timestamp() - before))
        return seen

    assert gaps(3) == [40, 40, 40]
    partner.faults = lambda event_id: (500, {})
    assert gaps(4) == [8, 16, 32, 64]


def test_records_filter_and_start_at(member, usd, partner, configure_partners, fast):
    fund_member(member, usd, "100")
    deposits_made(member, usd, 1, accept=False)
    withdraws.withdraw_create(uid=member.uid, currency=usd, amount=Decimal("5"), rid="DE89", request_digest="w")
    events_sequence()
    row = deliver_until_idle(setup_partner(configure_partners, partner, records=["withdraw"]))
    assert [e["name"] for e in partner.receiver.applied] == ["model.withdraw.created", "model.withdraw.updated"]
    assert row.cursor == 3


def test_a_new_partner_at_latest_gets_only_later_events(member, usd, partner, configure_partners, fast):
    deposits_made(member, usd, 1)
    loaded = configure_partners({NAME: {"url": partner.url}})
    partners_sync(config=loaded)
    row = EventPartner.objects.get()
    assert row.cursor == 2
    deposits_made(member, usd, 1, accept=False)
    deliver_until_idle(row)
    assert partner.receiver.received == [3]


def test_rewind_sends_again_and_is_audited(member, usd, partner, configure_partners, fast, django_user_model):
    deposits_made(member, usd, 2)
    row = deliver_until_idle(setup_partner(configure_partners, partner))
    operator = django_user_model.objects.create(username="op", email="op@example.com")
    partner_rewind(partner_id=row.pk, to=2, actor=operator)
    deliver_until_idle(row)
    assert partner.receiver.received == [1, 2, 3, 4, 3, 4]
    assert [e["id"] for e in partner.receiver.applied] == [1, 2, 3, 4]  # de-duplicated
    assert AuditRecord.objects.get(action="event_partner_rewind").to_state == "2"


def test_one_deliverer_per_partner(member, usd, partner, configure_partners, fast):
    deposits_made(member, usd, 1, accept=False)
    row = setup_partner(configure_partners, partner)
    entered, release = threading.Event(), threading.Event()

    def fault(event_id):
        entered.set()
        release.wait(10)
        return None

    partner.faults = fault
    first = threading.Thread(target=lambda: (partner_deliver(partner_id=row.pk), connection.close()))
    first.start()
    assert entered.wait(10)
    assert partner_deliver(partner_id=row.pk) == 0
    release.set()
    first.join(10)
    assert partner.receiver.received == [1]
