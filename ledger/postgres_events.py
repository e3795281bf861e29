"""Money events posted by one call of a PostgreSQL function (migration 0008_money_event_functions): the member
look-up, the account locks, the funds checks, the account updates and the postings in one statement.

Outside a transaction (the API's requests) the call runs in autocommit: the statement is its own transaction, so
the event is one round trip, commit included, and all or nothing. Inside a caller's transaction (the operators'
console adds its audit record; tests) it runs in a savepoint, so that a refusal leaves that transaction usable as
any service's refusal does.

The functions refuse with SQLSTATEs of class LD; the contract's answers for them are here, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db import DatabaseError, connection, transaction

from ledger.models import ChartAccount, Currency, Member, Operation, ReferenceType, Transfer
from peatio_mgmt.errors import BusinessRuleError, InsufficientFunds, RecordNotFound

CURRENCY_TYPE_MISMATCH = "Currency type and account currency type don't match"
KEY_TAKEN = "Key has already been taken"

REFUSALS = {
    "LD404": RecordNotFound,
    "LDCUR": lambda: BusinessRuleError(CURRENCY_TYPE_MISMATCH),
    "LDBAL": lambda: InsufficientFunds(InsufficientFunds.BALANCE),
    "LDLCK": lambda: InsufficientFunds(InsufficientFunds.LOCKED),
    "LDKEY": lambda: BusinessRuleError(KEY_TAKEN),
}
# The CHECK constraints are the last defence: reaching one is a defect of the function's checks, and the caller
# still gets the domain's answer, not a 500.
CHECKS = {
    "accounts_balance_gte_0": REFUSALS["LDBAL"],
    "accounts_locked_gte_0": REFUSALS["LDLCK"],
}


def _refusal(error: DatabaseError) -> Exception | None:
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate == "23514":
        make = CHECKS.get(cause.diag.constraint_name)
    else:
        make = REFUSALS.get(sqlstate)
    return make() if make is not None else None


def _call(sql: str, params: list) -> list[tuple]:
    try:
        if connection.in_atomic_block:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    except DatabaseError as error:
        refusal = _refusal(error)
        if refusal is None:
            raise
        raise refusal from error


def _row(account: ChartAccount, currency: Currency, debit: Decimal, credit: Decimal, posted: tuple,
         reference_type: str | None) -> dict:
    """A posting as the selectors' OPERATION_FIELDS row (what the API renders), from the function's answer."""
    pk, created_at, _member_id, uid = posted
    return {"id": pk, "type": account.type, "code_id": account.code, "currency_id": currency.pk, "debit": debit,
            "credit": credit, "member__uid": uid, "reference_type": reference_type, "created_at": created_at}


def operation_post(*, account: ChartAccount, currency: Currency, debit: Decimal, credit: Decimal,
                   uid: str | None) -> Operation:
    """One posting without a reference; its member (a member-scope code only) found by uid."""
    ((pk, created_at, member_id, stored_uid),) = _call(
        "SELECT * FROM ledger_post_uids(NULL, NULL, %s, %s, %s, %s, %s)",
        [[account.code], [currency.pk], [uid], [debit], [credit]],
    )
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
        "member__uid": operation.member.uid if operation.member_id is not None else None,
        "reference_type": operation.reference_type, "created_at": operation.created_at,
    }


def transfer_create(*, key: int, kind: str, desc: str | None, digest: str,
                    postings: Sequence[tuple[ChartAccount, Currency, str | None, Decimal, Decimal]]
                    ) -> tuple[Transfer, list[dict]] | None:
    """The transfer row and its postings (account, currency, uid, debit, credit), in posting order; None when a
    transfer with this key and digest exists (a retry: nothing written)."""
    rows = _call(
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
