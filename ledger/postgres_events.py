"""Money events posted by one call of a PostgreSQL function (migration 0008_money_event_functions): the member
look-up, the account locks, the funds checks, the account updates and the postings in one statement.

Outside a transaction (the API's requests) a call runs in autocommit: the statement is its own transaction, so
the event is one round trip, commit included, and all or nothing. Inside a caller's transaction it is one
statement of that transaction: ledger_post and ledger_post_uids answer a refusal having written nothing, so the
caller's transaction stays usable; ledger_transfer_create raises it (its transfer row must go), so there it runs
in a savepoint.

The functions refuse with codes of class LD; the contract's answers for them are here, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from decimal import Decimal

from django.db import DatabaseError, IntegrityError, connection, transaction

from ledger.models import ChartAccount, Currency, Member, Operation, ReferenceType, Transfer
from peatio_mgmt.errors import BusinessRuleError, InsufficientFunds, RecordNotFound

CURRENCY_TYPE_MISMATCH = "Currency type and account currency type don't match"
KEY_TAKEN = "Key has already been taken"
# No contract message: the spec only says amounts have at most 16 integer digits (management-api.md §1.4); an
# account the event would take to 10^16 or more cannot be stored, so the event is refused, not failed with a 500.
ACCOUNT_TOO_LARGE = "Account balance would exceed 16 integer digits"

# A refusal's domain error, made when raised.
Refusal = Callable[[], Exception]

REFUSALS: dict[str, Refusal] = {
    "LD404": RecordNotFound,
    "LDCUR": lambda: BusinessRuleError(CURRENCY_TYPE_MISMATCH),
    "LDBAL": lambda: InsufficientFunds(InsufficientFunds.BALANCE),
    "LDLCK": lambda: InsufficientFunds(InsufficientFunds.LOCKED),
    "LDMAX": lambda: BusinessRuleError(ACCOUNT_TOO_LARGE),
    "LDKEY": lambda: BusinessRuleError(KEY_TAKEN),
}
# The CHECK constraints are the last defence: reaching one is a defect of the function's checks, and the caller
# still gets the domain's answer, not a 500.
CHECKS: dict[str, Refusal] = {"accounts_balance_gte_0": REFUSALS["LDBAL"], "accounts_locked_gte_0": REFUSALS["LDLCK"]}


def _execute(sql: str, params: list) -> list[tuple]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except IntegrityError as error:
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
        make = CHECKS.get(constraint) if constraint is not None else None
        if make is None:
            raise
        # The statement failed in the caller's transaction (if any), which PostgreSQL has aborted: roll back.
        if connection.in_atomic_block:
            transaction.set_rollback(True)
        raise make() from error
    except DatabaseError as error:
        sqlstate = getattr(error.__cause__, "sqlstate", None)
        make = REFUSALS.get(sqlstate) if sqlstate is not None else None
        if make is None:
            if not connection.in_atomic_block and not connection.is_usable():
                # What a failed atomic block's rollback does: drop a connection that died under the call, so that
                # the next use reconnects (a worker thread or task sees no request boundary to do it).
                connection.close()
            raise
        raise make() from error


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise REFUSALS[refusal]()


LEDGER_POST = "ledger_post(%s, %s, %s, %s, %s, %s, %s)"


def _ledger_post_params(operations: list[Operation]) -> list:
    first = operations[0]
    return [first.reference_type, first.reference_id, [op.code_id for op in operations],
            [op.currency_id for op in operations], [op.member_id for op in operations],
            [op.debit for op in operations], [op.credit for op in operations]]


def entry_post(operations: list[Operation]) -> None:
    """The postings of one event (unsaved Operation rows sharing one reference, member set on the member-scope
    ones and fee revenues) checked and written; sets each one's id and created_at, or raises the refusal having
    written nothing."""
    rows = _execute(f"SELECT * FROM {LEDGER_POST}", _ledger_post_params(operations))
    _refuse(rows[0][2])
    for operation, (pk, created_at, _) in zip(operations, rows, strict=True):
        operation.pk, operation.created_at = pk, created_at
        operation._state.adding, operation._state.db = False, connection.alias


def post_with(writes: list[tuple[str, list]], operations: list[Operation]) -> None:
    """The caller's `writes` (data-modifying statements, each with its parameters) and the postings of one event
    (as entry_post; none: the writes alone) in ONE statement, in the caller's transaction: one round trip.

    The writes run whatever the postings' fate (data-modifying CTEs always run to completion), so a refusal
    marks the caller's transaction for rollback before it is raised: nothing of the statement can be committed.
    The writes must not touch what ledger_post reads or writes (accounts, operations): all parts of a statement
    run on one snapshot, in no defined order.
    """
    assert connection.in_atomic_block, "post_with's writes are undone by the caller's transaction"
    if not writes and not operations:
        return  # nothing held back (the outbox off, no transition): no statement to send
    ctes = [f"w{i} AS ({sql})" for i, (sql, _params) in enumerate(writes)]
    params = [value for _sql, write_params in writes for value in write_params]
    # The function runs only when the main query reads it (a plain CTE is not executed unless referenced).
    main = f"SELECT max(p.refusal) FROM {LEDGER_POST} AS p" if operations else "SELECT NULL"  # the writes alone
    if operations:
        params += _ledger_post_params(operations)
    ((refusal,),) = _execute((f"WITH {', '.join(ctes)} " if ctes else "") + main, params)
    if refusal is not None:
        transaction.set_rollback(True)
        _refuse(refusal)


def _row(account: ChartAccount, currency: Currency, debit: Decimal, credit: Decimal, posted: tuple,
         reference_type: str | None) -> dict:
    """A posting as the selectors' OPERATION_FIELDS row (what the API renders), from the function's answer."""
    pk, created_at, _member_id, uid = posted
    return {"id": pk, "type": account.type, "code_id": account.code, "currency_id": currency.pk, "debit": debit,
            "credit": credit, "member__uid": uid, "reference_type": reference_type, "created_at": created_at}


def operation_post(*, account: ChartAccount, currency: Currency, debit: Decimal, credit: Decimal,
                   uid: str | None) -> Operation:
    """One posting without a reference; its member (a member-scope code only) found by uid."""
    ((pk, created_at, refusal, member_id, stored_uid),) = _execute(
        "SELECT * FROM ledger_post_uids(NULL, NULL, %s, %s, %s, %s, %s)",
        [[account.code], [currency.pk], [uid], [debit], [credit]],
    )
    _refuse(refusal)
    operation = Operation(pk=pk, type=account.type, code=account, currency=currency, debit=debit, credit=credit,
                          created_at=created_at)
    if member_id is not None:
        # The member as the function found it: its id and stored uid loaded, the other fields on first access.
        operation.member = Member.from_db(connection.alias, ["id", "uid"], [member_id, stored_uid])
    operation._state.adding, operation._state.db = False, connection.alias
    return operation


def operation_row(operation: Operation) -> dict:
    """A posted operation as the selectors' OPERATION_FIELDS row, without reading it back."""
    return {
        "id": operation.pk, "type": operation.type, "code_id": operation.code_id, "currency_id": operation.currency_id,
        "debit": operation.debit, "credit": operation.credit,
        "member__uid": operation.member.uid if operation.member is not None else None,
        "reference_type": operation.reference_type, "created_at": operation.created_at,
    }


def transfer_create(*, key: int, kind: str, desc: str | None, digest: str,
                    postings: Sequence[tuple[ChartAccount, Currency, str | None, Decimal, Decimal]]
                    ) -> tuple[Transfer, list[dict]] | None:
    """The transfer row and its postings (account, currency, uid, debit, credit), in posting order; None when a
    transfer with this key and digest exists (a retry: nothing written)."""
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        rows = _execute(
            "SELECT * FROM ledger_transfer_create(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [key, kind, desc, digest, [p[0].code for p in postings], [p[1].pk for p in postings],
             [p[2] for p in postings], [p[3] for p in postings], [p[4] for p in postings]],
        )
    if not rows:
        return None
    transfer_id, created_at = rows[0][:2]
    transfer = Transfer(pk=transfer_id, key=key, kind=kind, desc=desc, request_digest=digest, created_at=created_at,
                        updated_at=created_at)
    transfer._state.adding, transfer._state.db = False, connection.alias
    return transfer, [_row(account, currency, debit, credit, row[2:], ReferenceType.TRANSFER)
                      for (account, currency, _uid, debit, credit), row in zip(postings, rows, strict=True)]
