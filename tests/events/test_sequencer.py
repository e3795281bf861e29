"""The sequencer (coin-deposits-ethereum-events.md §16.3, Part D §V 9): public ids 1, 2, 3 … without gaps, never
reordered, in order per record, while 20 writers commit out of id order and some roll back."""

import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from deposits import services as deposits
from events.models import Event
from events.services import events_sequence
from ledger.models import Member
from tests.factories import MemberFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("chart")]

WRITERS, ROUNDS = 20, 6


def test_twenty_concurrent_writers_get_a_gap_free_stream_in_id_order(usd):
    members = [MemberFactory() for _ in range(WRITERS)]
    stop = threading.Event()
    runs: list[list[int]] = []  # the ids each sequencer run numbered, in seq order
    errors = []

    def writer(member: Member, seed: int):
        rng = random.Random(seed)
        try:
            for round_ in range(ROUNDS):
                with transaction.atomic(durable=True):
                    deposit = deposits.deposit_create.__wrapped__(
                        uid=member.uid, currency=usd, amount=Decimal("1"), request_digest=f"{seed}-{round_}")
                    time.sleep(rng.random() * 0.05)  # commits land out of id order
                    deposits.deposit_accept.__wrapped__(deposit_id=deposit.pk)
                    if rng.random() < 0.2:
                        transaction.set_rollback(True)
        except Exception as error:  # reported on the main thread
            errors.append(error)
        finally:
            connection.close()

    def sequencer():
        try:
            while not stop.is_set():
                before = set(Event.objects.filter(seq__isnull=False).values_list("id", flat=True))
                events_sequence()
                numbered = list(Event.objects.filter(seq__isnull=False).exclude(id__in=before).order_by("seq")
                                .values_list("id", flat=True))
                runs.append(numbered)
        finally:
            connection.close()

    numbering = threading.Thread(target=sequencer)
    numbering.start()
    threads = [threading.Thread(target=writer, args=(m, n)) for n, m in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stop.set()
    numbering.join(30)
    assert errors == []
    events_sequence()

    rows = list(Event.objects.order_by("id").values_list("id", "seq", "record_id", "name"))
    assert rows and all(seq is not None for _, seq, _, _ in rows)
    seqs = [seq for _, seq, _, _ in rows]
    assert seqs == list(range(1, len(rows) + 1))  # gap-free and in id order: never reordered
    # each run numbered only ids above every id numbered before it
    numbered_so_far = 0
    for run in runs:
        if run:
            assert min(run) > numbered_so_far
            numbered_so_far = max(run)
    # per record: created then updated, increasing ids; only committed transactions' events exist
    by_record: dict[int, list[str]] = {}
    for _, _, record_id, name in rows:
        by_record.setdefault(record_id, []).append(name)
    assert all(names == ["model.deposit.created", "model.deposit.updated"] for names in by_record.values())
    assert len(by_record) == Event.objects.values("record_id").distinct().count()
    assert sum(len(run) for run in runs) > 0


def test_two_sequencers_at_once_one_does_nothing(member, usd):
    deposits.deposit_create(uid=member.uid, currency=usd, amount=Decimal("1"), request_digest="x")
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [0x5105])
        outcome = []
        thread = threading.Thread(target=lambda: (outcome.append(events_sequence()), connection.close()))
        thread.start()
        thread.join(30)
    assert outcome == [0]
    assert events_sequence() == 1
