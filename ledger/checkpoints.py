"""The journal checkpoint's service: counts of the final prefix of the journal, for the exact Total of the lists.

bench/README.md ("Frozen prefix + tail") designs it. A list without a member filter computes, in one statement (one
snapshot), Total = Σ journal_counts matching its filter + COUNT(*) of the matching postings above upto_id
(`selectors.operation_total`). That is exactly COUNT(*) of the snapshot, whatever order transactions commit in, as
long as every posting with an id <= upto_id that will ever commit had committed when the checkpoint was written:
then a snapshot that sees the checkpoint sees all of them, and the counts never change.

Which ids are final comes from the sync guard (migration 0005, `peatio_mgmt.sync.settled_id`): W such that every
operations row with an id <= W that will ever commit has committed. That replaces the README's first design (the
sequence's last value, then waiting until pg_stat_activity shows no transaction older than the reading): one run,
no second step, no `pg_read_all_stats`. Its conditions — a sequence without a per-session cache, ids drawn only by
the sequence, an append-only journal — are the guard's and the journal trigger's; the books check watches the first
(SYNC_GUARD_SQL), and the advance refuses to run without it too.

Kept out of ledger.services on purpose: it writes no money, only a derived count of the journal.
"""

from __future__ import annotations

import logging

from django.db import connection, transaction

from peatio_mgmt.sync import settled_id

logger = logging.getLogger(__name__)

# The checkpoint row locked, or nothing when another run holds it (single-flight: that run does the work), with the
# cache of the operations sequence, which must be 1 for the settled id to hold.
LOCK_SQL = """
SELECT c.upto_id, s.cache_size FROM journal_checkpoint c
LEFT JOIN pg_sequences s ON s.schemaname = current_schema() AND s.sequencename = 'operations_id_seq'
WHERE c.id = 1 FOR UPDATE OF c SKIP LOCKED
"""

# The postings in (upto_id, W] added to the counts and the checkpoint moved to W, in one statement. It runs after W
# was read, so its snapshot sees every posting <= W that will ever commit (READ COMMITTED: a snapshot per statement).
ADVANCE_SQL = """
WITH tail AS (
    SELECT type, currency_id, reference_type, COUNT(*) AS postings FROM operations
    WHERE id > %(upto_id)s AND id <= %(settled)s
    GROUP BY type, currency_id, reference_type
), counted AS (
    INSERT INTO journal_counts AS c (type, currency_id, reference_type, postings)
    SELECT type, currency_id, reference_type, postings FROM tail
    ON CONFLICT (type, currency_id, reference_type) DO UPDATE SET postings = c.postings + EXCLUDED.postings
)
UPDATE journal_checkpoint SET upto_id = %(settled)s, advanced_at = now() WHERE id = 1
"""


class CheckpointRefused(RuntimeError):
    """The database does not give the guarantee the checkpoint relies on."""


def journal_checkpoint_advance() -> int | None:
    """Move the checkpoint to the operations' settled id; the new upto_id, or None when another run holds it.

    One transaction: lock the checkpoint row, read W, count the postings in (upto_id, W] into journal_counts, store
    upto_id = W. A reader's snapshot sees the counts and upto_id of the same checkpoint, or of the previous one.
    """
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        # The row is created on the first run (and after a TRUNCATE of the journal emptied the table).
        cursor.execute("INSERT INTO journal_checkpoint (id, upto_id) VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
        cursor.execute(LOCK_SQL)
        row = cursor.fetchone()
        if row is None:
            return None
        upto_id, cache_size = row
        if cache_size != 1:
            raise CheckpointRefused(f"operations_id_seq has CACHE {cache_size}: ids are not drawn in commit-safe order")
        # Read under the lock, so two runs never count the same interval (the second waits for nothing: SKIP LOCKED).
        settled = settled_id("operations")
        if settled <= upto_id:
            return upto_id
        cursor.execute(ADVANCE_SQL, {"upto_id": upto_id, "settled": settled})
    logger.info("journal checkpoint advanced from #%d to #%d", upto_id, settled)
    return settled
