"""Writes of the event stream (coin-deposits-ethereum-events.md §16): the outbox row of a change, the sequencer,
the partner rows, push delivery and the console's actions, retention.

Locks (§16.6, disjoint from domain.md §12): event writers take none (one INSERT; the sync guard's shared
advisory lock is taken by the table's statement trigger); the sequencer holds the transaction advisory lock
(SEQUENCER, 0); each deliverer the session advisory lock (PARTNER, partner id), held without a transaction; the
outcome of a try and every console action lock the partner row, then its delivery row.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.module_loading import import_string

from events import config as events_config
from events import push
from events.models import DeliveryState, Event, EventDelivery, EventPartner
from ledger import postgres_events
from ledger.core import Entry
from ledger.models import Operation
from peatio_mgmt.errors import BusinessRuleError
from peatio_mgmt.locks import session_lock
from peatio_mgmt.management_api.fields import iso_time
from peatio_mgmt.management_api.renderers import to_json
from peatio_mgmt.sync import settled_id

logger = logging.getLogger(__name__)

# The entity of each record type, as the API renders it (management-api.md 3.2, 3.3); imported on first use, as
# the deposit and withdraw services import this module.
RENDERERS = {"deposit": "deposits.api.DepositSerializer", "withdraw": "withdraws.api.WithdrawSerializer"}
# Two-int advisory lock keys (objsubid 2): disjoint from the bigint keys of the sync guard and of the scan lock.
SEQUENCER, PARTNER = 0x5105, 0x5106
SEQUENCE_BATCH = 10_000


# --- the outbox (§16.1) ------------------------------------------------------------------------------------------


@cache
def _render(record_type: str):
    return import_string(RENDERERS[record_type]).render


def _before(record, render) -> dict | None:
    """The entity just before this change: the previous event's result in this transaction, else the row as it
    was loaded (locked) — EventSource keeps those values."""
    previous = getattr(record, "_event_record", None)
    if previous is not None:
        return previous
    loaded = getattr(record, "_loaded_values", None)
    if loaded is None:
        return None
    field_names, values = loaded
    snapshot = copy.copy(record)
    snapshot.__dict__.update(zip(field_names, values, strict=True))
    return render(snapshot)


def _event_values(record, created: bool) -> list | None:
    """The outbox row of the change just applied to `record` (None with the outbox off), rendered now; the next
    event of the record in this transaction takes its `after` as its `before`."""
    if not settings.EVENTS_OUTBOX:
        return None
    record_type = record._meta.model_name
    render = _render(record_type)
    after = render(record)
    now = timezone.now()
    body = {"name": f"model.{record_type}.{'created' if created else 'updated'}", "created_at": iso_time(now),
            "record": after}
    if not created:
        before = _before(record, render) or {}
        body["changes"] = {key: before.get(key) for key, value in after.items() if before.get(key) != value}
    record._event_record = after
    return [body["name"], record_type, record.pk, to_json(body).decode(), now]


EVENT_INSERT = "INSERT INTO events (name, record_type, record_id, body, created_at) VALUES "
EVENT_VALUES = "(%s, %s, %s, %s, %s)"


def event_record(record, *, created: bool = False) -> None:
    """Write the event of a deposit's or withdraw's creation (`created`) or of the transition just applied to it,
    in the caller's transaction: one INSERT (held back in the record's open OneStatement, if any). Several in
    one transaction chain their before/after."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_record must run inside the transaction of the change it records")
    values = _event_values(record, created)
    if values is None:
        return
    pending = getattr(record, "_one_statement", None)
    if pending is not None:
        pending.events.append(values)
        return
    with connection.cursor() as cursor:
        cursor.execute(EVENT_INSERT + EVENT_VALUES, values)


def record_save(record, fields: list[str] | None = None) -> None:
    """record.save(update_fields=fields) (None: every field), or, in the record's open OneStatement, the fields
    added to its one UPDATE."""
    pending = getattr(record, "_one_statement", None)
    if pending is None:
        record.save(update_fields=fields)
    else:
        pending.save(fields)


def record_post(record, entry: Entry) -> None:
    """entry.post() — the postings of the change just applied to `record` — or, in the record's open
    OneStatement, its postings appended to the statement's one ledger_post call."""
    pending = getattr(record, "_one_statement", None)
    if pending is None:
        entry.post()
    else:
        pending.operations += entry.operations()


class OneStatement:
    """The writes of a just-inserted deposit or withdraw, from its creation to where its service takes it, sent
    to PostgreSQL as ONE statement at the end of the `with` block (issue 13: one round trip per money event):
    the row's UPDATE (its final values), the outbox rows of its creation and of each transition, in order, and
    the postings of all its money events in one ledger_post call (the same postings, in the same order, as one
    call per event: the function checks each posting on the running balances).

    The services' code runs unchanged inside the block — the state machine fires, events are rendered from the
    row in memory as they happen; record_save, event_record and record_post hold their writes back. Nothing in
    the block may read the row from the database (it is not written yet); reads of other rows and locks run at
    once. A refusal of the postings rolls the transaction back (ledger.postgres_events.post_with); an exception
    in the block writes nothing of it.
    """

    def __init__(self, record) -> None:
        self.record = record
        self.fields: set[str] = set()
        self.events: list[list] = []
        self.operations: list[Operation] = []

    def __enter__(self) -> OneStatement:
        self.record._one_statement = self
        return self

    def __exit__(self, kind, error, traceback) -> None:
        del self.record._one_statement
        if kind is None:
            self._write()

    def save(self, fields: list[str] | None) -> None:
        if fields is None:
            fields = [field.name for field in self.record._meta.concrete_fields if not field.primary_key]
        self.fields.update(fields)

    def _update(self) -> tuple[str, list]:
        """The row's UPDATE as Model.save(update_fields=...) writes it (auto_now fields stamped now)."""
        meta = self.record._meta
        fields = [field for field in meta.concrete_fields if field.name in self.fields]
        quote = connection.ops.quote_name
        values = [field.get_db_prep_save(field.pre_save(self.record, False), connection) for field in fields]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", [
            *values, self.record.pk]

    def _write(self) -> None:
        writes = []
        if self.fields:
            writes.append(self._update())
        if self.events:
            # One INSERT: the ids are drawn in VALUES order, the events' order (the sequence has CACHE 1).
            writes.append((EVENT_INSERT + ", ".join([EVENT_VALUES] * len(self.events)),
                           [value for row in self.events for value in row]))
        postgres_events.post_with(writes, self.operations)


# --- sequencing (§16.3) ------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def events_sequence() -> int:
    """Number the settled outbox rows: public ids max(seq) + 1, + 2 … in id order. Returns how many (0 when another
    run holds the lock).

    W, the sync guard's settled id of `events` (peatio_mgmt.sync), bounds the rows: every event with id <= W whose
    transaction will ever commit has committed, and the UPDATE below, a later statement, sees all of them. So no
    row is numbered before one of a smaller id (never reordered), and a rolled-back row is never numbered (no gap).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, 0)", [SEQUENCER])
        if not cursor.fetchone()[0]:
            return 0
        bound = settled_id("events")
        cursor.execute(
            """
            WITH todo AS (SELECT id FROM events WHERE seq IS NULL AND id <= %s ORDER BY id LIMIT %s FOR UPDATE),
                 top AS (SELECT coalesce(max(seq), 0) AS seq FROM events),
                 numbered AS (SELECT todo.id, top.seq + row_number() OVER (ORDER BY todo.id) AS seq FROM todo, top)
            UPDATE events SET seq = numbered.seq, sequenced_at = now() FROM numbered WHERE events.id = numbered.id
            """,
            [bound, SEQUENCE_BATCH],
        )
        return cursor.rowcount


# --- partners (§16.5) --------------------------------------------------------------------------------------------


def _max_seq() -> int:
    return Event.objects.aggregate(top=Max("seq"))["top"] or 0


@transaction.atomic(durable=True)
def partners_sync(*, config: events_config.Config) -> None:
    """The partner rows as the file says: new partners start at `start_at` (latest: the current last event), the
    url and enabled flag are copied, a partner no longer in the file is kept with configured = false."""
    top = _max_seq()
    EventPartner.objects.bulk_create(
        [EventPartner(name=p.name, url=p.url, enabled=p.enabled, cursor=top if p.start_at is None else p.start_at)
         for p in config.partners.values()],
        ignore_conflicts=True,
    )
    for partner in EventPartner.objects.select_for_update().order_by("pk"):
        entry = config.partners.get(partner.name)
        if entry is None:
            partner.configured = False
        else:
            partner.url, partner.enabled, partner.configured = entry.url, entry.enabled, True
        partner.save(update_fields=["url", "enabled", "configured"])


def partners_due(*, now: datetime | None = None) -> list[int]:
    """The configured, enabled partners whose backoff has passed and that have something to send."""
    now = now or timezone.now()
    top = _max_seq()
    due = EventPartner.objects.filter(configured=True, enabled=True).exclude(next_attempt_at__gt=now)
    return [p.pk for p in due.only("pk", "cursor")
            if p.cursor < top or EventDelivery.objects.filter(partner=p, state=DeliveryState.REPLAY).exists()]


# --- push (§16.4) ------------------------------------------------------------------------------------------------


def partner_deliver(*, partner_id: int) -> int:
    """Send the partner's due events, one request at a time, in order: its replays first, then the stream from
    cursor + 1. Returns the number of tries made. No transaction is open during a request; each outcome is its own
    transaction (a crash between a 2xx and that commit sends the event again: at least once)."""
    signing = events_config.current().signing
    tries = 0
    with session_lock(PARTNER, partner_id) as held:  # one deliverer per partner
        if not held:
            return 0
        while tries < settings.EVENTS_DELIVERY_BATCH:
            partner = EventPartner.objects.get(pk=partner_id)
            entry = events_config.current().partners.get(partner.name)
            if (entry is None or signing is None or not partner.enabled or not partner.configured
                    or (partner.next_attempt_at is not None and partner.next_attempt_at > timezone.now())):
                break
            event, replay = _next_event(partner, entry)
            if event is None:
                break
            seq = _seq(event)
            outcome = push.post_event(signing, entry, seq=seq, name=event.name, event=push.event_json(seq, event.body))
            tries += 1
            if not _record_outcome(partner_id=partner_id, seq=seq, replay=replay, outcome=outcome):
                break
    return tries


def _next_event(partner: EventPartner, entry: events_config.Partner) -> tuple[Event | None, bool]:
    """The first replay delivery's event, else the next stream event of a wanted record type; the events of other
    types before it are passed by moving the cursor (a conditional update: a rewind meanwhile wins)."""
    replay = (EventDelivery.objects.filter(partner=partner, state=DeliveryState.REPLAY).order_by("event_seq")
              .values_list("event_seq", flat=True).first())
    if replay is not None:
        return Event.objects.only("seq", "name", "body").get(seq=replay), True
    event = (Event.objects.filter(seq__gt=partner.cursor, record_type__in=entry.records).order_by("seq")
             .only("seq", "name", "body").first())
    passed = _seq(event) - 1 if event is not None else _max_seq()
    if passed > partner.cursor:
        EventPartner.objects.filter(pk=partner.pk, cursor=partner.cursor).update(cursor=passed)
    return event, False


def _seq(event: Event) -> int:
    """The id of an event read by its seq (seq = or > a value), so a sequenced one: only new events have none."""
    assert event.seq is not None, f"event {event.pk} read by seq has none"
    return event.seq


def _backoff(failures: int, retry_after: int | None) -> timedelta:
    delay = min(settings.EVENTS_RETRY_BASE_DELAY * 2 ** (failures - 1), settings.EVENTS_RETRY_MAX_DELAY)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.EVENTS_RETRY_MAX_DELAY))
    return timedelta(seconds=delay)


@transaction.atomic(durable=True)
def _record_outcome(*, partner_id: int, seq: int, replay: bool, outcome: push.Outcome) -> bool:
    """Record one try; True when the deliverer may go on at once (delivered, or just dead-lettered)."""
    now = timezone.now()
    with connection.cursor() as cursor:
        # An outcome lost in a crash is harmless — the event is sent again, as after any crash before this commit
        # (at least once) — so its commit need not wait for the WAL flush: it would cost most of a push.
        cursor.execute("SET LOCAL synchronous_commit = off")
    partner = EventPartner.objects.select_for_update().get(pk=partner_id)
    # The partner's deliverer lock makes this the only writer of a new row: no insert race to guard against.
    delivery = EventDelivery.objects.select_for_update().filter(partner=partner, event_seq=seq).first() or EventDelivery(
        partner=partner, event_seq=seq, state=DeliveryState.FAILING, first_try_at=now, last_try_at=now)
    delivery.tries += 1
    delivery.last_try_at, delivery.last_status, delivery.last_error = now, outcome.status, outcome.error
    passed = False
    if outcome.kind == push.DELIVERED:
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, now
        passed = True
    elif outcome.kind == push.REJECTED:
        delivery.attempts += 1
        if delivery.attempts >= settings.EVENTS_MAX_ATTEMPTS:
            delivery.state = DeliveryState.DEAD
            passed = True
            logger.error("event %s is a dead letter for partner %s after %s rejections (%s)", seq, partner.name,
                         delivery.attempts, outcome.error)
    if not passed and delivery.state != DeliveryState.REPLAY:
        delivery.state = DeliveryState.FAILING
    delivery.save()

    if passed:
        # A rewind while the request was out moved the cursor: it wins, the event is sent again from there.
        if not replay and partner.cursor == seq - 1:
            partner.cursor = seq
        partner.consecutive_failures, partner.next_attempt_at = 0, None
        if outcome.kind == push.DELIVERED:
            partner.last_success_at = now
    else:
        partner.consecutive_failures += 1
        partner.next_attempt_at = now + _backoff(partner.consecutive_failures, outcome.retry_after)
    if outcome.kind != push.DELIVERED:
        partner.last_failure_at, partner.last_error = now, f"event {seq}: {outcome.error}"
    partner.save(update_fields=["cursor", "consecutive_failures", "next_attempt_at", "last_success_at",
                                "last_failure_at", "last_error"])
    return passed


# --- console actions (§16.6), each audited -----------------------------------------------------------------------


def _oldest_seq() -> int | None:
    return Event.objects.aggregate(first=Min("seq"))["first"]


def _audit(actor, action: str, obj, from_state: str, to_state: str, note: str = "") -> None:
    from operators.services import audit_record

    audit_record(actor=actor, action=action, obj=obj, from_state=from_state, to_state=to_state, note=note)


@transaction.atomic(durable=True)
def partner_retry_now(*, partner_id: int, actor) -> EventPartner:
    partner = EventPartner.objects.select_for_update().get(pk=partner_id)
    previous = iso_time(partner.next_attempt_at) or ""
    partner.next_attempt_at = None
    partner.save(update_fields=["next_attempt_at"])
    _audit(actor, "event_partner_retry_now", partner, previous, "")
    return partner


@transaction.atomic(durable=True)
def partner_rewind(*, partner_id: int, to: int, actor) -> EventPartner:
    """cursor = n, F - 1 <= n <= cursor (F the oldest retained id): everything after n is sent again."""
    partner = EventPartner.objects.select_for_update().get(pk=partner_id)
    oldest = _oldest_seq() or partner.cursor + 1
    if not oldest - 1 <= to <= partner.cursor:
        raise BusinessRuleError(f"Event must be between {oldest - 1} and {partner.cursor}")
    previous = partner.cursor
    partner.cursor = to
    partner.save(update_fields=["cursor"])
    _audit(actor, "event_partner_rewind", partner, str(previous), str(to))
    return partner


@transaction.atomic(durable=True)
def deliveries_replay(*, delivery_ids: list[int], actor) -> int:
    """The selected dead letters become `replay` (attempts reset): sent before the stream resumes."""
    rows = list(EventDelivery.objects.select_for_update().select_related("partner")
                .filter(pk__in=delivery_ids, state=DeliveryState.DEAD).order_by("partner_id", "event_seq"))
    for delivery in rows:
        delivery.state, delivery.attempts = DeliveryState.REPLAY, 0
        delivery.save(update_fields=["state", "attempts"])
        _audit(actor, "event_delivery_replay", delivery, DeliveryState.DEAD, DeliveryState.REPLAY)
    return len(rows)


# --- retention (§16.6) -------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def events_prune(*, now: datetime | None = None) -> int:
    """Delete the oldest events: older than EVENTS_RETENTION_DAYS, at or below every configured partner's cursor,
    none dead or in replay from there on, never the last one (its seq is the next id's base) — always a prefix,
    so the retained ids stay one range. Their deliveries go with them."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL peatio.events_prune = 'on'")
        cursor.execute(
            """
            WITH upto AS (
                SELECT least((SELECT min(cursor) FROM event_partners WHERE configured),
                             (SELECT max(seq) - 1 FROM events),
                             (SELECT min(event_seq) - 1 FROM event_deliveries WHERE state IN ('dead', 'replay')),
                             (SELECT min(seq) - 1 FROM events WHERE seq IS NOT NULL AND created_at >= %s)) AS seq
            ), gone AS (
                DELETE FROM event_deliveries WHERE event_seq <= (SELECT seq FROM upto)
            )
            DELETE FROM events WHERE seq <= (SELECT seq FROM upto)
            """,
            [cutoff],
        )
        return cursor.rowcount
