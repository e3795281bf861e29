"""The journal checkpoint (ledger.checkpoints): the lists' Total without a member filter is COUNT(*) of one snapshot,
exactly, however writers commit around a checkpoint — counted prefix plus live tail."""

import random
import threading
import time

import psycopg
import pytest
from django.db import connection, transaction

from ledger.checkpoints import CheckpointRefused, journal_checkpoint_advance
from ledger.models import JournalCheckpoint, JournalCount, Operation
from ledger.selectors import operation_ids, operation_total
from tests.factories import CoinFactory, CurrencyFactory
from tests.support import database_url

# A balanced pair (assets = liabilities + revenues - expenses, credit - debit), with no reference or one the books
# check does not match against events (trade, order): the books check stays clean.
PAIR_SQL = """
INSERT INTO operations (type, code, currency_id, reference_type, reference_id, debit, credit)
VALUES ('asset', %(asset)s, %(currency)s, %(ref)s, %(ref_id)s, 0, 1),
       ('revenue', %(revenue)s, %(currency)s, %(ref)s, %(ref_id)s, 0, 1)
RETURNING id
"""
CODES = {"usd": (101, 301), "btc": (102, 302)}
FILTERS = [{}, {"currency": "usd"}, {"currency": "btc"}, {"reference_type": "trade"},
           {"reference_type": "ORDER"}, {"currency": "btc", "reference_type": "Trade"}]


def post_pair(conn, currency: str, ref: str | None, ref_id: int = 1) -> list[int]:
    """Two postings (asset and revenue) on `conn`, not committed; their ids."""
    asset, revenue = CODES[currency]
    rows = conn.execute(PAIR_SQL, {"asset": asset, "revenue": revenue, "currency": currency, "ref": ref,
                                   "ref_id": ref_id if ref else None}).fetchall()
    return [row[0] for row in rows]


def exact_totals(currencies) -> list[tuple]:
    """(type, filter, checkpoint Total, COUNT(*)) for every filter, both read in one REPEATABLE READ snapshot."""
    found = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for type_ in ("asset", "revenue", "expense"):
            for filters in FILTERS:
                values = {"currency": currencies.get(filters.get("currency")), "reference_type": filters.get("reference_type")}
                found.append((type_, filters, operation_total(type_=type_, **values),
                              operation_ids(type_=type_, **values).count()))
    return found


def assert_exact(currencies):
    for type_, filters, total, count in exact_totals(currencies):
        assert total == count, (type_, filters)


@pytest.fixture
def currencies(db):
    return {"usd": CurrencyFactory(), "btc": CoinFactory()}


@pytest.fixture
def committed(side_connection):
    """A helper that writes a pair and commits it on a connection of its own."""
    conn = side_connection()

    def write(currency="usd", ref=None):
        with conn.transaction():
            return post_pair(conn, currency, ref)

    return write


@pytest.mark.django_db(transaction=True)
def test_total_counts_the_checkpoint_and_the_postings_above_it_for_every_filter(chart, currencies, committed):
    for currency, ref in [("usd", None), ("usd", "trade"), ("btc", "trade"), ("btc", "order"), ("usd", "order")]:
        committed(currency, ref)
    assert_exact(currencies)  # no checkpoint yet: everything is tail

    upto = journal_checkpoint_advance()
    assert upto == Operation.objects.order_by("-id").values_list("id", flat=True).first()
    assert JournalCheckpoint.objects.get().upto_id == upto
    assert sum(JournalCount.objects.values_list("postings", flat=True)) == 10
    assert JournalCount.objects.filter(reference_type=None, type="asset", currency="usd").get().postings == 1
    assert_exact(currencies)  # everything counted, no tail

    committed("btc", "trade")
    committed("usd", None)
    assert_exact(currencies)  # counted + tail
    assert journal_checkpoint_advance() > upto
    assert JournalCount.objects.filter(reference_type=None, type="asset", currency="usd").get().postings == 2
    assert_exact(currencies)
    assert journal_checkpoint_advance() == JournalCheckpoint.objects.get().upto_id  # nothing new: unchanged


@pytest.mark.django_db(transaction=True)
def test_a_writer_open_below_a_committed_one_holds_the_checkpoint_back(chart, currencies, side_connection, committed):
    committed("usd", "trade")
    slow, fast = side_connection(), side_connection()
    slow_ids = post_pair(slow, "usd", "trade")  # drawn first, committed last
    fast_ids = post_pair(fast, "btc", "trade")
    fast.commit()
    assert max(slow_ids) < min(fast_ids)

    upto = journal_checkpoint_advance()
    assert upto < min(slow_ids)  # the open writer's ids may still commit: not final
    assert_exact(currencies)  # the fast pair is in the tail, counted live

    slow.commit()
    assert_exact(currencies)  # the slow pair too: above the checkpoint
    assert journal_checkpoint_advance() == max(fast_ids)
    assert_exact(currencies)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_writer_leaves_a_gap_that_counts_nothing(chart, currencies, side_connection, committed):
    aborted = side_connection()
    post_pair(aborted, "usd", None)
    committed("usd", None)
    aborted.rollback()
    journal_checkpoint_advance()
    assert_exact(currencies)
    assert operation_total(type_="asset") == 1


@pytest.mark.django_db(transaction=True)
def test_totals_stay_exact_while_writers_commit_out_of_id_order_around_checkpoints(chart, currencies):
    """Real connections: writers that draw ids then commit (or roll back) after random delays, a checkpoint
    advancing in a loop, and readers comparing Total with COUNT(*) of their snapshot for every filter."""
    stop = threading.Event()
    errors, mismatches, reads, checkpoints = [], [], [], []

    def writer(seed):
        rng = random.Random(seed)
        with psycopg.connect(database_url()) as conn:
            while not stop.is_set():
                post_pair(conn, rng.choice(["usd", "btc"]), rng.choice([None, "trade", "order"]), rng.randint(1, 9))
                time.sleep(rng.uniform(0, 0.02))
                if rng.random() < 0.1:
                    conn.rollback()  # ids drawn and never committed: a gap the checkpoint must step over
                else:
                    conn.commit()

    def checkpointer():
        try:
            while not stop.is_set():
                checkpoints.append(journal_checkpoint_advance())
                time.sleep(0.01)
        finally:
            connection.close()

    def reader():
        try:
            while not stop.is_set():
                found = exact_totals(currencies)
                reads.append(found)
                mismatches.extend(row for row in found if row[2] != row[3])
        finally:
            connection.close()

    def guarded(target, *args):
        def run():
            try:
                target(*args)
            except Exception as error:  # reported on the main thread
                errors.append(error)
                stop.set()
        return threading.Thread(target=run, daemon=True)

    threads = [guarded(writer, seed) for seed in range(4)] + [guarded(checkpointer), guarded(reader), guarded(reader)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert mismatches == []
    assert len(reads) >= 5
    moved = {upto for upto in checkpoints if upto is not None}
    assert len(moved) >= 3  # the checkpoint advanced between the reads, not once at the end
    assert_exact(currencies)
    journal_checkpoint_advance()
    assert_exact(currencies)


@pytest.mark.django_db(transaction=True)
def test_a_second_run_while_one_holds_the_checkpoint_does_nothing(chart, currencies, committed, side_connection):
    committed()
    journal_checkpoint_advance()
    holder = side_connection()
    holder.execute("SELECT 1 FROM journal_checkpoint WHERE id = 1 FOR UPDATE")
    committed()
    assert journal_checkpoint_advance() is None
    holder.rollback()
    assert journal_checkpoint_advance() == Operation.objects.order_by("-id").values_list("id", flat=True).first()


@pytest.mark.django_db(transaction=True)
def test_truncating_the_journal_empties_the_checkpoint(chart, currencies, committed):
    committed()
    journal_checkpoint_advance()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE operations")
    assert not JournalCheckpoint.objects.exists()
    assert not JournalCount.objects.exists()
    assert operation_total(type_="asset") == 0


def test_a_cached_sequence_is_refused(chart, currencies):
    with connection.cursor() as cursor:
        cursor.execute("ALTER SEQUENCE operations_id_seq CACHE 10")  # rolled back with the test's transaction
    with pytest.raises(CheckpointRefused):
        journal_checkpoint_advance()


@pytest.mark.django_db(transaction=True)
def test_lists_without_a_member_answer_the_checkpoint_total_in_one_query(api, chart, currencies, committed,
                                                                         django_assert_max_num_queries):
    for currency, ref in [("usd", None), ("btc", "trade"), ("btc", "trade"), ("usd", "order")]:
        committed(currency, ref)
    journal_checkpoint_advance()
    committed("btc", "trade")  # above the checkpoint

    data = {"currency": "btc", "reference_type": "TRADE", "limit": 2}
    # currencies (parameter check), ids of the page, their rows, Total (counted prefix + tail in one statement)
    with django_assert_max_num_queries(4):
        response = api.post("/assets", data)
    assert response.status_code == 201
    assert response.pagination == {"Total": "3", "Page": "1", "Per-Page": "2"}
    assert api.post("/revenues", {"limit": 1}).headers["Total"] == "5"
    assert api.post("/revenues", {"limit": 1, "currency": "usd"}).headers["Total"] == "2"
    assert api.post("/revenues", {"page": 9, "limit": 1}).headers["Total"] == "5"  # past the last page
    assert api.post("/expenses", {"page": 2, "limit": 1}).headers["Total"] == "0"
