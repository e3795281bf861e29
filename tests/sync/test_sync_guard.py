"""The settled id W (management-api-extensions.md §5.3, §8.5): a `from_id` read never offers a row above one whose
writer is still open, and offers every committed row at or below W, once."""

import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from deposits.models import Deposit
from deposits.selectors import deposit_list
from deposits.services import deposit_create
from ledger import services as ledger
from ledger.models import ChartAccount
from ledger.selectors import operation_ids
from peatio_mgmt.sync import GUARD_CODES, feed_page, settled_id
from tests.factories import MemberFactory
from tests.sync.conftest import OpenTransaction, body, insert_deposit_sql
from trades.models import Trade
from withdraws.models import Withdraw


def feed_ids(queryset, from_id, *, limit=100, page=1):
    result = feed_page(queryset, from_id=from_id, page=page, limit=limit)
    ids = [row if isinstance(row, int) else row.pk for row in result.rows]
    return ids, result.total


def make_deposit(member, usd, tid):
    return deposit_create(uid=member.uid, currency=usd, amount=Decimal("10"), tid=tid, request_digest=tid)


def guard_locks(table):
    """The low bounds published for `table` right now, as the reader sees them in pg_locks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ((classid::bigint << 32) | objid::bigint) & 281474976710655 FROM pg_locks"
            " WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) >> 48 = %s",
            [GUARD_CODES[table]],
        )
        return sorted(row[0] for row in cursor.fetchall())


# (a) deposits ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_open_deposit_withholds_a_later_committed_one_until_it_ends(member, usd, outcome):
    before = make_deposit(member, usd, "before")
    a = OpenTransaction(lambda: body(deposit_create)(uid=member.uid, currency=usd, amount=Decimal("10"), tid="A",
                                                    request_digest="A"))
    b = make_deposit(member, usd, "B")
    assert before.pk < a.result.pk < b.pk
    assert Deposit.objects.filter(pk=b.pk).exists()  # committed and visible: only W holds it back

    assert feed_ids(deposit_list(), a.result.pk - 1) == ([], 0)
    assert feed_ids(deposit_list(), before.pk - 1) == ([before.pk], 1)
    assert settled_id("deposits") == a.result.pk - 1

    if outcome == "commit":
        a.commit()
        assert feed_ids(deposit_list(), a.result.pk - 1) == ([a.result.pk, b.pk], 2)
    else:
        a.rollback()
        assert feed_ids(deposit_list(), a.result.pk - 1) == ([b.pk], 1)
    assert guard_locks("deposits") == []


@pytest.mark.django_db(transaction=True)
def test_feed_keeps_the_other_filters_pages_ascending_and_counts_the_set(usd, btc):
    alice, bob = MemberFactory(), MemberFactory()
    ids = [make_deposit(alice if i % 2 else bob, usd, f"t{i}").pk for i in range(7)]
    alices = [pk for i, pk in enumerate(ids) if i % 2]
    assert feed_ids(deposit_list(member=alice), 0, limit=2) == (alices[:2], 3)
    assert feed_ids(deposit_list(member=alice), 0, limit=2, page=2) == (alices[2:], 3)
    assert feed_ids(deposit_list(member=alice), 0, limit=2, page=3) == ([], 3)
    assert feed_ids(deposit_list(member=alice), alices[0], limit=2) == (alices[1:], 2)
    assert feed_ids(deposit_list(), ids[-1]) == ([], 0)
    assert feed_ids(deposit_list(), 99_999_999) == ([], 0)
    assert feed_ids(deposit_list(currency=btc), 0) == ([], 0)


@pytest.mark.django_db(transaction=True)
def test_settled_id_of_an_idle_table_is_its_last_drawn_id(member, usd):
    deposits = [make_deposit(member, usd, f"d{i}") for i in range(3)]
    assert settled_id("deposits") == deposits[-1].pk


# (b) postings through the ledger core ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_open_liability_posting_withholds_a_later_committed_transfer(member, usd, chart, outcome):
    liability, asset = ChartAccount.objects.get(code=201), ChartAccount.objects.get(code=101)
    other = MemberFactory()  # another member's account: the open writer holds `member`'s row lock
    a = OpenTransaction(lambda: ledger.operation_post(account=liability, currency=usd, side="credit",
                                                     amount=Decimal("5"), uid=member.uid))
    _, postings = ledger.transfer_create(key=1, kind="deposit", desc=None, legs=[
        ledger.TransferLeg(currency=usd, amount=Decimal("3"), source=asset, destination=liability,
                           destination_uid=other.uid)])
    transferred = [p["id"] for p in postings if p["type"] == "liability"]
    assert a.result.pk < transferred[0]

    liabilities = operation_ids(type_="liability")
    assert feed_ids(liabilities, a.result.pk - 1) == ([], 0)
    assert feed_ids(operation_ids(type_="asset"), 0) == ([], 0)  # one table, one W for the four journals
    if outcome == "commit":
        a.commit()
        assert feed_ids(liabilities, a.result.pk - 1) == ([a.result.pk, *transferred], 2)
    else:
        a.rollback()
        assert feed_ids(liabilities, a.result.pk - 1) == (transferred, 1)


# (c) savepoints -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_insert_after_a_rolled_back_savepoint_publishes_again_and_holds_the_feed(member, usd, side_connection):
    writer, other = side_connection(), side_connection()
    writer.execute("BEGIN")
    writer.execute("SAVEPOINT s")
    discarded = insert_deposit_sql(writer, member_id=member.pk, currency="usd", tid="discarded")
    assert len(guard_locks("deposits")) == 1
    writer.execute("ROLLBACK TO SAVEPOINT s")
    # The savepoint took the lock and the setting with it: the next insert must publish again.
    assert guard_locks("deposits") == []
    assert writer.execute("SELECT current_setting('peatio.sync_guard.deposits', true)").fetchone()[0] != "1"
    kept = insert_deposit_sql(writer, member_id=member.pk, currency="usd", tid="kept")
    assert guard_locks("deposits") == [discarded]  # low = the last id drawn before this insert

    with other.transaction():
        later = insert_deposit_sql(other, member_id=member.pk, currency="usd", tid="later")
    assert discarded < kept < later
    assert feed_ids(deposit_list(), 0) == ([], 0)

    writer.execute("COMMIT")
    assert feed_ids(deposit_list(), 0) == ([kept, later], 2)


@pytest.mark.django_db(transaction=True)
def test_guard_publishes_once_per_transaction_and_table(member, usd, side_connection):
    writer = side_connection()
    writer.execute("BEGIN")
    first = insert_deposit_sql(writer, member_id=member.pk, currency="usd", tid="one")
    insert_deposit_sql(writer, member_id=member.pk, currency="usd", tid="two")
    writer.execute(  # a bulk INSERT ... SELECT: one statement, one guard
        "INSERT INTO deposits (member_id, currency_id, type, tid, amount, fee, state, confirmations, error, created_at,"
        " updated_at) SELECT %s, 'usd', 'fiat', 'bulk' || g, 1, 0, 'submitted', 0, '[]', now(), now()"
        " FROM generate_series(1, 5) AS g", [member.pk])
    assert guard_locks("deposits") == [first - 1]
    writer.execute("ROLLBACK")
    assert guard_locks("deposits") == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", sorted(GUARD_CODES))
def test_every_guarded_table_publishes_on_insert(table, side_connection):
    writer = side_connection()
    writer.execute("BEGIN")
    # An insert that writes no row still runs the statement trigger: the guard needs no valid row to be seen.
    writer.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE false")
    assert len(guard_locks(table)) == 1
    assert all(guard_locks(other) == [] for other in GUARD_CODES if other != table)
    writer.execute("ROLLBACK")


def test_the_guarded_tables_are_the_four_feeds_and_the_event_outbox():
    from events.models import Event
    from ledger.models import Operation

    assert {m._meta.db_table for m in (Deposit, Withdraw, Operation, Trade, Event)} == set(GUARD_CODES)


# (d) many writers and a poller ------------------------------------------------------------------------------------

WRITERS = 20
ROWS_PER_WRITER = 520  # committed rows each: 10,400 in all


@pytest.mark.django_db(transaction=True)
def test_twenty_writers_and_a_poller_see_every_committed_id_once_in_order(member, usd, side_connection):
    connections = [side_connection() for _ in range(WRITERS)]
    done = threading.Event()
    errors = []

    def write(index, conn):
        rng = random.Random(index)
        committed = txn = 0
        try:
            while committed < ROWS_PER_WRITER:
                txn += 1
                size = rng.randint(1, 20)
                conn.execute("BEGIN")
                for row in range(size):
                    insert_deposit_sql(conn, member_id=member.pk, currency="usd", tid=f"w{index}-{txn}-{row}")
                    if rng.random() < 0.2:
                        time.sleep(rng.random() * 0.003)  # other writers draw ids meanwhile
                if rng.random() < 0.1:
                    conn.execute("ROLLBACK")  # a permanent gap
                else:
                    conn.execute("COMMIT")
                    committed += size
        except Exception as error:  # reported on the main thread
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i, c)) for i, c in enumerate(connections)]
    for thread in threads:
        thread.start()
    waiter = threading.Thread(target=lambda: ([t.join() for t in threads], done.set()))
    waiter.start()

    seen, cursor, polls = [], 0, 0
    rows = Deposit.objects.values_list("id", flat=True)
    while True:
        finished = done.is_set()  # read before the poll: a poll after every writer ended sees everything
        page = feed_page(rows, from_id=cursor, page=1, limit=1000)
        polls += 1
        seen += page.rows
        if page.rows:
            cursor = page.rows[-1]
        if finished and len(page.rows) < 1000:
            break
        if len(page.rows) < 1000:
            time.sleep(0.005)
    waiter.join()

    assert errors == []
    committed = list(Deposit.objects.order_by("id").values_list("id", flat=True))
    assert len(committed) >= WRITERS * ROWS_PER_WRITER >= 10_000
    assert len(seen) == len(set(seen))
    assert seen == committed
    assert polls > 10  # the poller really ran alongside the writers
