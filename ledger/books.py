"""The books check (domain.md §11): every invariant of the ledger verified with aggregate SQL.

Each check is one aggregate query whose result rows are the breaches (or the per-currency totals), so the check
costs O(rows) in PostgreSQL and Python only walks the few rows the aggregates return. `books_check()` reads;
`books_check_run()` is what the command and the hourly task call: check, log, and record the result in Redis
for the admin dashboard and /metrics.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import redis
from django.conf import settings
from django.db import connection

from ledger.money import MONEY_CONTEXT, ZERO, format_amount
from ledger.selectors import account_mismatches

logger = logging.getLogger(__name__)

LAST_CHECK_KEY = "ledger:last_check"
# The Redis record keeps the first breaches only: enough for an operator to start, bounded for a broken ledger.
RECORDED_BREACHES = 50

NEGATIVE_ACCOUNTS_SQL = """
SELECT member_id, currency_id, balance, locked FROM accounts WHERE balance < 0 OR locked < 0 ORDER BY 1, 2
"""

TWO_SIDED_POSTINGS_SQL = """
SELECT id, currency_id, debit, credit FROM operations
WHERE NOT ((debit > 0 AND credit = 0) OR (debit = 0 AND credit > 0))
ORDER BY id
"""

UNBALANCED_TRANSFERS_SQL = """
SELECT reference_id, currency_id, SUM(debit), SUM(credit) FROM operations
WHERE reference_type = 'transfer'
GROUP BY reference_id, currency_id
HAVING SUM(debit) <> SUM(credit)
ORDER BY 1, 2
"""

# The postings each deposit / withdraw state implies (domain.md §5.2, §6.4), compared with the journal per
# (reference, account type, kind, side, member, currency) as sums. A canceled withdraw may come from `prepared`
# (no postings) or from submitted/accepted (lock + unlock pairs): it is expected to hold the pairs exactly when
# it holds any posting at all.
EVENT_POSTINGS_SQL = """
WITH actual AS (
    SELECT o.reference_type, o.reference_id AS id, c.type, c.kind,
           CASE WHEN o.debit > 0 THEN 'debit' ELSE 'credit' END AS side,
           o.member_id, o.currency_id, SUM(o.debit + o.credit) AS amount
    FROM operations o JOIN chart_accounts c ON c.code = o.code
    WHERE o.reference_type IN ('deposit', 'withdraw')
    GROUP BY 1, 2, 3, 4, 5, 6, 7
),
expected AS (
    SELECT 'deposit' AS reference_type, d.id, e.type, e.kind, e.side, e.member_id, d.currency_id, e.amount
    FROM deposits d
    CROSS JOIN LATERAL (VALUES
        ('asset', 'main', 'credit', NULL::bigint, d.amount + d.fee),
        ('revenue', 'main', 'credit', d.member_id, d.fee),
        ('liability', 'main', 'credit', d.member_id, d.amount)
    ) AS e(type, kind, side, member_id, amount)
    WHERE d.state IN ('accepted', 'skipped', 'collected') AND e.amount > 0
    UNION ALL
    SELECT 'withdraw', w.id, e.type, e.kind, e.side, e.member_id, w.currency_id, e.amount
    FROM withdraws w
    CROSS JOIN LATERAL (VALUES
        ('liability', 'main', 'debit', w.member_id, w.sum, w.state <> 'prepared'),
        ('liability', 'locked', 'credit', w.member_id, w.sum, w.state <> 'prepared'),
        ('liability', 'locked', 'debit', w.member_id, w.sum, w.state IN ('canceled', 'rejected', 'failed', 'succeed')),
        ('liability', 'main', 'credit', w.member_id, w.sum, w.state IN ('canceled', 'rejected', 'failed')),
        ('revenue', 'main', 'credit', w.member_id, w.fee, w.state = 'succeed' AND w.fee > 0),
        ('asset', 'main', 'debit', NULL::bigint, w.amount, w.state = 'succeed')
    ) AS e(type, kind, side, member_id, amount, applies)
    WHERE e.applies
      AND (w.state <> 'canceled' OR w.id IN (SELECT id FROM actual WHERE reference_type = 'withdraw'))
)
SELECT COALESCE(a.reference_type, e.reference_type), COALESCE(a.id, e.id), COALESCE(a.type, e.type),
       COALESCE(a.kind, e.kind), COALESCE(a.side, e.side), COALESCE(a.member_id, e.member_id),
       COALESCE(a.currency_id, e.currency_id), COALESCE(a.amount, 0), COALESCE(e.amount, 0)
FROM actual a FULL OUTER JOIN expected e
  ON a.reference_type = e.reference_type AND a.id = e.id AND a.type = e.type AND a.kind = e.kind
 AND a.side = e.side AND a.member_id IS NOT DISTINCT FROM e.member_id AND a.currency_id = e.currency_id
WHERE a.amount IS DISTINCT FROM e.amount
ORDER BY 1, 2, 3, 4, 5
"""

# Invariant 9 (management-api-extensions.md §8.6): a withdraw made with a beneficiary has its member, currency and
# rid (the composite foreign key), and at most one pending/active beneficiary per (member, currency, rid).
BENEFICIARY_DESTINATIONS_SQL = """
SELECT w.id, w.currency_id, w.beneficiary_id, b.id IS NULL FROM withdraws w
LEFT JOIN beneficiaries b ON b.id = w.beneficiary_id
WHERE w.beneficiary_id IS NOT NULL
  AND (b.id IS NULL OR (w.member_id, w.currency_id, w.rid) IS DISTINCT FROM (b.member_id, b.currency_id, b.rid))
ORDER BY 1
"""

DUPLICATE_BENEFICIARIES_SQL = """
SELECT member_id, currency_id, rid, COUNT(*) FROM beneficiaries WHERE state <> 'archived'
GROUP BY member_id, currency_id, rid HAVING COUNT(*) > 1
ORDER BY 1, 2, 3
"""

# Invariant 10: states move only pending -> active -> archived (or pending -> archived). What remains visible
# afterwards: a state outside the three, or a pending beneficiary some withdraw was made with (withdraws need an
# active one, and nothing goes back to pending).
BENEFICIARY_STATES_SQL = """
SELECT b.id, b.currency_id, b.state FROM beneficiaries b
WHERE b.state NOT IN ('pending', 'active', 'archived')
   OR (b.state = 'pending' AND EXISTS (SELECT 1 FROM withdraws w WHERE w.beneficiary_id = b.id))
ORDER BY 1
"""

# Invariant 11 (the settled feed), as far as it can be checked after the fact: the sync guard's statement trigger
# (BEFORE INSERT FOR EACH STATEMENT: tgtype 6) is installed and enabled on each of the four tables, and their id
# sequences keep CACHE 1 (a per-session cache breaks the order of ids across sessions the bound relies on).
SYNC_GUARD_SQL = """
SELECT t.name, tr.tgenabled, tr.tgtype, p.proname, s.cache_size
FROM (VALUES ('deposits'), ('withdraws'), ('operations'), ('trades'), ('events')) AS t(name)
LEFT JOIN pg_trigger tr ON tr.tgrelid = to_regclass(t.name) AND tr.tgname = t.name || '_sync_guard'
LEFT JOIN pg_proc p ON p.oid = tr.tgfoid
LEFT JOIN pg_sequences s ON s.schemaname = current_schema() AND s.sequencename = t.name || '_id_seq'
WHERE tr.tgenabled IS DISTINCT FROM 'O' AND tr.tgenabled IS DISTINCT FROM 'A'
   OR tr.tgtype IS DISTINCT FROM 6 OR p.proname IS DISTINCT FROM 'sync_guard_publish'
   OR s.cache_size IS DISTINCT FROM 1
ORDER BY 1
"""

BALANCE_SHEET_SQL = """
SELECT currency_id, type, SUM(credit - debit) FROM operations GROUP BY currency_id, type
"""

TOTAL_OF_TYPE = {"asset": "assets", "liability": "liabilities", "revenue": "revenues", "expense": "expenses"}

ACCOUNTS_PER_CURRENCY_SQL = "SELECT currency_id, COUNT(*) FROM accounts GROUP BY currency_id"

# Invariants 9–12 (coin-deposits-ethereum-events.md, "Additions to §11").
# 9: an accepted coin deposit is on the chain: txid, block and hash (unless an operator accepted it with a
# reason), enough confirmations unless an operator accepted it, and not orphaned. Coin deposits recorded without
# chain data (the API's /deposits/new, management-api.md 4.2: no txid, no on-chain amount) are not the scanner's
# and are checked by the postings alone.
COIN_DEPOSITS_SQL = """
SELECT d.id, d.currency_id,
       CASE WHEN d.orphaned_at IS NOT NULL THEN 'accepted, then orphaned at ' || d.orphaned_at::text
            WHEN d.txid IS NULL THEN 'accepted without a txid'
            WHEN NOT d.error @> '[{"class": "OperatorAccepted"}]' AND (d.block_number IS NULL OR d.block_hash IS NULL)
                THEN 'accepted without a block'
            ELSE 'accepted at ' || d.confirmations || ' of ' || c.min_confirmations || ' confirmations without an operator'
       END
FROM deposits d JOIN currencies c ON c.id = d.currency_id
WHERE d.type = 'coin' AND d.state IN ('accepted', 'skipped', 'collected')
  AND (d.txid IS NOT NULL OR d.amount_base_units IS NOT NULL)
  AND (d.orphaned_at IS NOT NULL OR d.txid IS NULL
       OR (NOT d.error @> '[{"class": "OperatorAccepted"}]'
           AND (d.block_number IS NULL OR d.block_hash IS NULL OR d.confirmations < c.min_confirmations)))
ORDER BY d.id
"""
# 10: ethereum derivation indexes are exactly 0 .. next_index - 1.
ADDRESS_INDEXES_SQL = """
SELECT s.currency_id, s.next_index, COUNT(a.id), MIN(a.derivation_index), MAX(a.derivation_index)
FROM deposit_address_sequences s JOIN currencies c ON c.id = s.currency_id AND c.wallet_gateway = 'ethereum'
LEFT JOIN payment_addresses a ON a.currency_id = s.currency_id AND a.derivation_index IS NOT NULL
GROUP BY s.currency_id, s.next_index
HAVING COUNT(a.id) <> s.next_index OR (COUNT(a.id) > 0 AND (MIN(a.derivation_index) <> 0
       OR MAX(a.derivation_index) <> s.next_index - 1))
ORDER BY 1
"""
# 11: the stored blocks link by parent hash; the cursor is not above the last head.
SCAN_CHAIN_SQL = """
SELECT b.currency_id, 'block ' || b.number || ' does not link to the stored block ' || p.number
FROM deposit_scan_blocks b JOIN deposit_scan_blocks p ON p.currency_id = b.currency_id AND p.number = b.number - 1
WHERE b.parent_hash <> p.hash
UNION ALL
SELECT currency_id, 'height ' || height || ' above the last head ' || head FROM deposit_scan_cursors WHERE head < height
ORDER BY 1, 2
"""
# 12: one signed transaction per withdraw, whose hash is its txid, for every confirming or succeeded ethereum
# withdraw sent by the gateway (a hash recorded by an operator has no row and is not checked).
ETHEREUM_TRANSACTIONS_SQL = """
SELECT w.currency_id, 'withdraw ' || w.tid || ': txid ' || COALESCE(w.txid, '-') || ', signed ' || t.hash
FROM ethereum_transactions t JOIN withdraws w ON w.id = t.withdraw_id
WHERE w.state IN ('confirming', 'succeed') AND w.txid IS DISTINCT FROM t.hash
ORDER BY 1, 2
"""

# Invariants 13–14 (coin-deposits-ethereum-events.md, "Additions to §11"): the partner event stream.
# 13a: the public ids are exactly the range from the first retained one to the last.
EVENT_SEQUENCE_SQL = """
SELECT min(seq), max(seq), count(seq) FROM events HAVING count(seq) <> coalesce(max(seq) - min(seq) + 1, 0)
"""
# 13b: every deposit and withdraw of the retention period has exactly one `created` event, and its latest event
# shows its current state. The period starts at the retention cutoff, or at the first record with a retained
# `created` event (records older than the outbox, or whose events were pruned, have nothing to mirror).
EVENT_RECORDS_SQL = """
WITH records AS (
    SELECT 'deposit' AS type, id, state, created_at FROM deposits
    UNION ALL
    SELECT 'withdraw', id, state, created_at FROM withdraws
), first_created AS (
    SELECT record_type, min(record_id) AS record_id FROM events WHERE name LIKE '%%.created' GROUP BY record_type
), created AS (
    SELECT record_type, record_id, count(*) AS n FROM events WHERE name LIKE '%%.created' GROUP BY 1, 2
), latest AS (
    SELECT DISTINCT ON (record_type, record_id) record_type, record_id, body::jsonb -> 'record' ->> 'state' AS state
    FROM events ORDER BY record_type, record_id, id DESC
)
SELECT r.type, r.id, coalesce(c.n, 0), l.state, r.state
FROM records r
JOIN first_created f ON f.record_type = r.type AND r.id >= f.record_id
LEFT JOIN created c ON c.record_type = r.type AND c.record_id = r.id
LEFT JOIN latest l ON l.record_type = r.type AND l.record_id = r.id
WHERE r.created_at >= now() - make_interval(days => %s)
  AND (coalesce(c.n, 0) <> 1 OR l.state IS DISTINCT FROM r.state)
ORDER BY 1, 2
"""
# 14: every partner's cursor lies within the stream, and nothing at or below it is still failing.
EVENT_CURSORS_SQL = """
SELECT p.name, 'cursor ' || p.cursor || ' outside 0..' || coalesce(m.seq, 0)
FROM event_partners p, (SELECT max(seq) AS seq FROM events) m
WHERE p.cursor < 0 OR p.cursor > coalesce(m.seq, 0)
UNION ALL
SELECT p.name, 'delivery of event ' || d.event_seq || ' is failing at or below the cursor ' || p.cursor
FROM event_deliveries d JOIN event_partners p ON p.id = d.partner_id
WHERE d.state = 'failing' AND d.event_seq <= p.cursor
ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Breach:
    check: str
    currency: str
    detail: str


@dataclass
class CurrencySummary:
    currency: str
    assets: Decimal = ZERO
    liabilities: Decimal = ZERO
    revenues: Decimal = ZERO
    expenses: Decimal = ZERO
    accounts: int = 0
    breaches: int = 0

    @property
    def difference(self) -> Decimal:
        """Σ assets − (Σ liabilities + Σ revenues − Σ expenses): zero when the balance-sheet equation holds."""
        c = MONEY_CONTEXT
        return c.subtract(self.assets, c.subtract(c.add(self.liabilities, self.revenues), self.expenses))

    def to_json(self) -> dict:
        amounts = ("assets", "liabilities", "revenues", "expenses")
        return {
            "currency": self.currency,
            **{name: format_amount(getattr(self, name)) for name in amounts},
            "difference": format_amount(self.difference),
            "accounts": self.accounts,
            "breaches": self.breaches,
        }


@dataclass
class BooksReport:
    checked_at: datetime
    currencies: list[CurrencySummary]
    breaches: list[Breach] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaches

    def to_json(self) -> dict:
        return {
            "time": self.checked_at.isoformat(),
            "ok": self.ok,
            "breaches": len(self.breaches),
            "currencies": [summary.to_json() for summary in self.currencies],
            "first_breaches": [vars(b) for b in self.breaches[:RECORDED_BREACHES]],
        }

    def render(self) -> str:
        header = ("currency", "assets", "liabilities", "revenues", "expenses", "difference", "accounts", "breaches")
        rows = [header] + [
            (s.currency, *(format_amount(v) for v in (s.assets, s.liabilities, s.revenues, s.expenses, s.difference)),
             str(s.accounts), str(s.breaches))
            for s in self.currencies
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [f"Books check at {self.checked_at.isoformat()}"]
        lines += ["  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))) for row in rows]
        lines.append("difference = assets - (liabilities + revenues - expenses), reported, not a breach")
        for breach in self.breaches:
            lines.append(f"BREACH {breach.check} [{breach.currency}] {breach.detail}")
        lines.append(f"OK: {len(self.currencies)} currencies, no breach" if self.ok else f"FAILED: {len(self.breaches)} breaches")
        return "\n".join(lines)


def _rows(sql: str, params: tuple | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _breaches() -> list[Breach]:
    breaches = [
        Breach("balance_mismatch", currency, f"member {member}: balance {balance} locked {locked}, postings say {p_balance} / {p_locked}")
        for member, currency, balance, locked, p_balance, p_locked in account_mismatches()
    ]
    breaches += [
        Breach("negative_account", currency, f"member {member}: balance {balance} locked {locked}")
        for member, currency, balance, locked in _rows(NEGATIVE_ACCOUNTS_SQL)
    ]
    breaches += [
        Breach("two_sided_posting", currency, f"operation {op_id}: debit {debit} credit {credit}")
        for op_id, currency, debit, credit in _rows(TWO_SIDED_POSTINGS_SQL)
    ]
    breaches += [
        Breach("unbalanced_transfer", currency, f"transfer {transfer_id}: debit {debit} != credit {credit}")
        for transfer_id, currency, debit, credit in _rows(UNBALANCED_TRANSFERS_SQL)
    ]
    breaches += [
        Breach(
            "event_postings",
            currency,
            f"{ref_type} {ref_id}: {type_}/{kind} {side} member {member}: postings {actual}, state implies {expected}",
        )
        for ref_type, ref_id, type_, kind, side, member, currency, actual, expected in _rows(EVENT_POSTINGS_SQL)
    ]
    breaches += [Breach("coin_deposit_on_chain", currency, f"deposit {deposit_id}: {detail}")
                 for deposit_id, currency, detail in _rows(COIN_DEPOSITS_SQL)]
    breaches += [Breach("address_indexes", currency, f"next_index {next_index}, {count} addresses, indexes {low}..{high}")
                 for currency, next_index, count, low, high in _rows(ADDRESS_INDEXES_SQL)]
    breaches += [Breach("address_derivation", currency, detail) for currency, detail in _derivation_mismatches()]
    breaches += [Breach("scanned_chain", currency, detail) for currency, detail in _rows(SCAN_CHAIN_SQL)]
    breaches += [Breach("ethereum_transactions", currency, detail)
                 for currency, detail in _rows(ETHEREUM_TRANSACTIONS_SQL)]
    breaches += [
        Breach("beneficiary_destination", currency,
               f"withdraw {withdraw_id}: beneficiary {beneficiary_id} "
               + ("does not exist" if missing else "has another member, currency or rid"))
        for withdraw_id, currency, beneficiary_id, missing in _rows(BENEFICIARY_DESTINATIONS_SQL)
    ]
    breaches += [
        Breach("duplicate_beneficiary", currency, f"member {member}: {count} pending/active beneficiaries with rid {rid}")
        for member, currency, rid, count in _rows(DUPLICATE_BENEFICIARIES_SQL)
    ]
    breaches += [
        Breach("beneficiary_state", currency,
               f"beneficiary {beneficiary_id}: state {state}"
               + (" but withdraws were made with it" if state == "pending" else " is not a state"))
        for beneficiary_id, currency, state in _rows(BENEFICIARY_STATES_SQL)
    ]
    breaches += [
        Breach("sync_guard", "",
               f"{table}: trigger {table}_sync_guard "
               + ("missing" if enabled is None else f"enabled={enabled} type={tgtype} function={function}")
               + f", sequence cache {cache}")
        for table, enabled, tgtype, function, cache in _rows(SYNC_GUARD_SQL)
    ]
    breaches += [Breach("event_sequence", "", f"public ids {low}..{high} but {count} sequenced events")
                 for low, high, count in _rows(EVENT_SEQUENCE_SQL)]
    breaches += [
        Breach("event_mirror", "", f"{type_} {record_id}: {created} created events, latest event state {shown}, "
                                   f"state {state}")
        for type_, record_id, created, shown, state in _rows(EVENT_RECORDS_SQL, (settings.EVENTS_RETENTION_DAYS,))
    ]
    breaches += [Breach("event_cursor", "", f"partner {partner}: {detail}")
                 for partner, detail in _rows(EVENT_CURSORS_SQL)]
    return breaches


def _derivation_mismatches() -> list[tuple[str, str]]:
    """Invariant 10: every ethereum deposit address equals the derivation from its currency's xpub at its index."""
    from withdraws.gateways import GatewayError
    from withdraws.gateways.ethereum import derive_address

    rows = _rows("""
        SELECT a.currency_id, a.address, a.derivation_index, c.wallet_settings ->> 'deposit_xpub'
        FROM payment_addresses a JOIN currencies c ON c.id = a.currency_id
        WHERE c.wallet_gateway = 'ethereum' ORDER BY a.id""")
    mismatches = []
    for currency, address, index, xpub in rows:
        try:
            derived = derive_address(xpub or "", index) if index is not None else None
        except GatewayError:
            derived = None
        if derived != address:
            mismatches.append((currency, f"address {address} at index {index} is not derived from deposit_xpub"))
    return mismatches


def books_check() -> BooksReport:
    """Check every invariant of domain.md §11 (1–6), of coin-deposits-ethereum-events.md (its 9–14: coin deposits
    on chain, address indexes and derivation, the scanned chain, ethereum transactions, the event stream) and of
    management-api-extensions.md §8.6 (its 9–11: beneficiaries, the sync guard), and total the books per currency;
    writes nothing.

    Runs in one REPEATABLE READ snapshot when called outside a transaction, so the queries see the same books.
    """
    checked_at = datetime.now(UTC)
    with connection.cursor() as cursor:
        snapshot = not connection.in_atomic_block
        if snapshot:
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            breaches = _breaches()
            totals = _rows(BALANCE_SHEET_SQL)
            accounts = _rows(ACCOUNTS_PER_CURRENCY_SQL)
            currencies = [row[0] for row in _rows("SELECT id FROM currencies")]
        finally:
            if snapshot:
                cursor.execute("COMMIT")

    summaries = {code: CurrencySummary(code) for code in currencies}
    for currency, type_, total in totals:
        if type_ in TOTAL_OF_TYPE:
            setattr(summaries.setdefault(currency, CurrencySummary(currency)), TOTAL_OF_TYPE[type_], total)
    for currency, count in accounts:
        summaries.setdefault(currency, CurrencySummary(currency)).accounts = count
    for currency, count in Counter(b.currency for b in breaches if b.currency).items():
        summaries.setdefault(currency, CurrencySummary(currency)).breaches = count
    return BooksReport(checked_at, sorted(summaries.values(), key=lambda s: s.currency), breaches)


def books_check_run() -> BooksReport:
    """The books check as the command and the hourly task run it: check, log a breach, record the result."""
    report = books_check()
    if report.ok:
        logger.info("books check: ok, %d currencies", len(report.currencies))
    else:
        logger.error(
            "books check: %d breaches: %s", len(report.breaches), "; ".join(f"{b.check} [{b.currency}] {b.detail}" for b in report.breaches[:10])
        )
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
        client.set(LAST_CHECK_KEY, json.dumps(report.to_json()))
    except redis.RedisError:
        # The verdict still reaches the log and the exit code; only the dashboard misses this run.
        logger.exception("books check: could not record the result in Redis")
    return report


def books_last_check() -> dict | None:
    """The last recorded result (JSON of BooksReport.to_json), None when none was recorded or Redis is down."""
    try:
        raw = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).get(LAST_CHECK_KEY)
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None
