"""Reads of the ledger."""

from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from ledger.filters import OperationFilter
from ledger.models import Currency, JournalCheckpoint, JournalCount, Member, Operation, ReferenceType, Transfer
from ledger.money import ZERO
from peatio_mgmt.errors import RecordNotFound

# Accounts whose balance / locked differ from the net of the member's liability postings of kind main / locked
# (domain.md §11 invariant 1), found with one aggregate query over the journal.
ACCOUNT_MISMATCHES_SQL = """
WITH postings AS (
    SELECT o.member_id, o.currency_id,
           SUM(CASE WHEN c.kind = 'main' THEN o.credit - o.debit ELSE 0 END) AS balance,
           SUM(CASE WHEN c.kind = 'locked' THEN o.credit - o.debit ELSE 0 END) AS locked
    FROM operations o JOIN chart_accounts c ON c.code = o.code
    WHERE o.type = 'liability' AND c.scope = 'member'
    GROUP BY o.member_id, o.currency_id
)
SELECT COALESCE(a.member_id, p.member_id), COALESCE(a.currency_id, p.currency_id),
       COALESCE(a.balance, 0), COALESCE(a.locked, 0), COALESCE(p.balance, 0), COALESCE(p.locked, 0)
FROM accounts a FULL OUTER JOIN postings p ON p.member_id = a.member_id AND p.currency_id = a.currency_id
WHERE COALESCE(a.balance, 0) <> COALESCE(p.balance, 0) OR COALESCE(a.locked, 0) <> COALESCE(p.locked, 0)
ORDER BY 1, 2
"""


def account_mismatches() -> list[tuple]:
    """(member id, currency, balance, locked, postings' balance, postings' locked) of every account out of step."""
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNT_MISMATCHES_SQL)
        return cursor.fetchall()


def member_get_by_uid(uid: str) -> Member | None:
    """Look-ups by uid ignore case (domain.md §2.1)."""
    return Member.objects.filter(uid__iexact=uid).first() if uid else None


def member_named(uid: str | None) -> Member | None:
    """The member a route's `uid` names: None when no uid is given (absent or empty: no filter),
    RecordNotFound (404) when nobody has it (management-api.md §1.7)."""
    if not uid:
        return None
    member = member_get_by_uid(uid)
    if member is None:
        raise RecordNotFound()
    return member


def member_balance(*, uid: str, currency: Currency) -> tuple[str, Decimal, Decimal] | None:
    """(the member's uid as stored, balance, locked) in the currency, or None for an unknown uid; one query.

    The member by uid ignoring case (the unique UPPER(uid) index) joined with its account; a missing account
    reads as zero (not created by a read).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.uid, a.balance, a.locked FROM members AS m"
            " LEFT JOIN accounts AS a ON a.member_id = m.id AND a.currency_id = %s WHERE UPPER(m.uid) = UPPER(%s)",
            [currency.pk, uid],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    member_uid, balance, locked = row
    return member_uid, ZERO if balance is None else balance, ZERO if locked is None else locked


# What a rendered posting needs, read with the member's uid in the same query (no query per row).
OPERATION_FIELDS = ("id", "type", "code_id", "currency_id", "debit", "credit", "member__uid", "reference_type", "created_at")


def operation_ids(
    *,
    type_: str,
    currency: Currency | None = None,
    member: Member | None = None,
    reference_type: str | None = None,
    time_from: datetime | None = None,
    time_to: datetime | None = None,
) -> QuerySet:
    """Ids of the postings of one account type, newest first (management-api.md §4.11, §4.18); page them, then
    read the rows with `operations_by_id`.

    Every filter is an equality or range on a column of the (type, ...) indexes of domain.md §2.5, and asking for
    ids alone lets PostgreSQL answer from those indexes (index-only scan, backwards, stopping after the page).
    Asking for whole rows instead makes it walk the primary key backwards and filter, on the assumption that the
    matching postings are spread evenly over time — reading most of the journal when they are old (a member or a
    currency inactive for months). The rows of the page are then read by primary key.
    """
    filters = {"currency": currency, "member": member, "reference_type": reference_type, "time_from": time_from,
               "time_to": time_to}
    postings = OperationFilter(filters, queryset=Operation.objects.filter(type=type_)).qs
    return postings.order_by("-id").values_list("id", flat=True)


def operation_total(*, type_: str, currency: Currency | None = None, reference_type: str | None = None) -> int:
    """Total of `operation_ids` with these filters, exact, in one statement: the postings counted by the journal
    checkpoint (ledger.checkpoints) plus those above it, counted live on the (type, ...) indexes.

    One statement is one snapshot: if it sees the checkpoint row, it sees every posting the checkpoint counted and
    only those at or below upto_id, so the sum is COUNT(*) of the snapshot. The live part is at most one checkpoint
    interval of postings instead of the whole journal.
    """
    with connection.cursor() as cursor:
        cursor.execute(*operation_total_sql(type_=type_, currency=currency, reference_type=reference_type))
        return int(cursor.fetchone()[0])


def operation_total_sql(*, type_: str, currency: Currency | None, reference_type: str | None) -> tuple[str, list]:
    """The statement of `operation_total` and its parameters (bench/liabilities.py explains it)."""
    upto_id = Coalesce(Subquery(JournalCheckpoint.objects.values("upto_id")), 0, output_field=BigIntegerField())
    # The planner cannot know upto_id (a sub-select): it guesses a third of the journal above it, enough for a parallel
    # scan whose start-up costs more than counting one checkpoint interval. A range with both ends unknown is guessed
    # at 0.5 %: a plain index-only scan. The upper end bounds nothing (ids never come near 2^62).
    tail = operation_ids(type_=type_, currency=currency, reference_type=reference_type).order_by().filter(
        id__gt=upto_id, id__lt=upto_id + Value(2**62, output_field=BigIntegerField()))
    # The checkpoint's keys are the filter's columns: the lists' FilterSet selects its rows too.
    counts = OperationFilter({"currency": currency, "reference_type": reference_type},
                             queryset=JournalCount.objects.filter(type=type_)).qs
    counted = counts.values("type").annotate(total=Sum("postings")).values("total")
    counted_sql, counted_params = counted.query.sql_with_params()
    tail_sql, tail_params = tail.query.sql_with_params()
    return (f"SELECT COALESCE(({counted_sql}), 0) + (SELECT COUNT(*) FROM ({tail_sql}) AS tail)",
            [*counted_params, *tail_params])


def operations_by_id(ids: list[int]) -> list[dict]:
    """The postings of a page of ids as OPERATION_FIELDS dicts, newest first, in one query."""
    if not ids:
        return []
    return list(Operation.objects.filter(id__in=ids).order_by("-id").values(*OPERATION_FIELDS))


def transfer_postings(transfer: Transfer) -> list[dict]:
    """The postings of one transfer in the order they were made, one query on the (reference_type, reference_id) index."""
    return list(
        Operation.objects.filter(reference_type=ReferenceType.TRANSFER, reference_id=transfer.pk)
        .order_by("id")
        .values(*OPERATION_FIELDS)
    )


# Members, balances of a currency, currencies (management-api-extensions.md §7.1, §7.4, §7.6, §7.7) ---------------


def member_get(*, uid: str) -> Member:
    """The member with this uid ignoring case; RecordNotFound (404) otherwise."""
    member = member_get_by_uid(uid)
    if member is None:
        raise RecordNotFound()
    return member


# The WHERE of the partial index accounts_nonzero_by_currency, written as the index is, so the planner uses it.
NONZERO_ACCOUNTS_WHERE = "a.currency_id = %s AND (a.balance > 0 OR a.locked > 0)"


def account_balances(*, currency_id: str, page: int, limit: int) -> tuple[list[tuple[str, Decimal, Decimal]], int]:
    """(uid, balance, locked) of the accounts of one currency with a non-zero balance or locked amount, members
    in any state, account id ascending (accounts are never deleted: new ones join at the end), one page; and
    Total, the number of such accounts. Both queries read only the partial index's rows."""
    offset = (page - 1) * limit
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.uid, a.balance, a.locked FROM accounts AS a JOIN members AS m ON m.id = a.member_id"
            f" WHERE {NONZERO_ACCOUNTS_WHERE} ORDER BY a.id LIMIT %s OFFSET %s",
            [currency_id, limit, offset],
        )
        rows = cursor.fetchall()
        if 0 < len(rows) < limit or (page == 1 and not rows):
            return rows, offset + len(rows)
        cursor.execute(f"SELECT COUNT(*) FROM accounts AS a WHERE {NONZERO_ACCOUNTS_WHERE}", [currency_id])
        return rows, cursor.fetchone()[0]


def stored_code(code: str) -> str | None:
    """A currency code or market id as the look-up routes take it: as stored (lowercase) or entirely in
    uppercase; None for mixed case, which names nothing (`Usd`)."""
    if code == code.lower():
        return code
    if code == code.upper():
        return code.lower()
    return None


def currency_list(*, type_: str | None = None) -> QuerySet:
    """Every currency (enabled or not), of one type when given, by position then id."""
    currencies = Currency.objects.order_by("position", "id")
    return currencies.filter(type=type_) if type_ else currencies


def currency_get(*, code: str) -> Currency:
    currency = Currency.objects.filter(id=stored_code(code)).first() if stored_code(code) else None
    if currency is None:
        raise RecordNotFound()
    return currency
