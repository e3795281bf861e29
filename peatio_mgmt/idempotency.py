"""Identifiers of deposits and withdraws (domain.md §10) and safe retries of creations (management-api.md §1.8).

A creation keyed by a tid stores the SHA-256 of its canonical request; a later request with the same tid is a
retry when its digest is the same (answered with the stored record, nothing written), otherwise
`Tid has already been taken`. The unique index on UPPER(tid) decides between concurrent requests: the loser's
insert fails inside a savepoint (insert_with_tid) or inserts nothing (insert_for_uid), and it is judged against
the winner's row like any later request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TypeGuard, TypeVar

from django.db import IntegrityError, connection, models, transaction

from peatio_mgmt.decimals import format_amount
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound

TID_TAKEN = "Tid has already been taken"
TID_MAX_LENGTH = 64
TID_TOO_LONG = f"Tid is too long (maximum is {TID_MAX_LENGTH} characters)"
GENERATION_ATTEMPTS = 8

Row = TypeVar("Row", bound=models.Model)


def generate_tid() -> str:
    """`TID` and 10 uppercase hex digits from 5 random bytes: TID8C1F0A9B2E."""
    return "TID" + secrets.token_hex(5).upper()


def _canonical(value):
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, models.Model):  # a row a parameter resolved to (a currency): its key
        return value.pk
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def request_digest(values: dict) -> str:
    """SHA-256 hex of the canonical JSON of a route's parsed parameters: sorted keys, decimals normalised,
    absent optionals omitted, currencies as their lowercase code."""
    text = json.dumps(_canonical(values), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def find_by_tid(model: type[Row], tid: str | None) -> Row | None:
    """The stored record with this tid ignoring case (read once per request: the same row decides whether the
    request is a retry and whether its tid is taken)."""
    if not tid or len(tid) > TID_MAX_LENGTH:
        return None
    return model._default_manager.filter(tid__iexact=tid).first()


def get_by_exact_tid(model: type[Row], tid: str) -> Row:
    """The record whose tid is exactly `tid` (case-sensitive, as the get/state/action routes look up), with its
    member; RecordNotFound otherwise."""
    row = model._default_manager.select_related("member").filter(tid=tid).first()
    if row is None:
        raise RecordNotFound()
    return row


def is_retry(row: Row | None, digest: str) -> TypeGuard[Row]:
    # serializable_value: every model keyed by a tid has a request_digest column, which Model does not declare
    return row is not None and row.serializable_value("request_digest") == digest


def insert_with_tid(model: type[Row], *, tid: str | None, digest: str, constraint: str,
                    build: Callable[[str], Row]) -> tuple[Row, bool]:
    """Insert `build(tid)` (a generated tid when none is given) -> (row, True), or the winner of a concurrent
    request with the same tid and digest -> (winner, False). Raises `Tid has already been taken` otherwise.

    The insert runs in a savepoint so that a unique violation leaves the caller's transaction usable.
    A generated tid is never a retry: on a collision another one is drawn.
    """
    for _ in range(GENERATION_ATTEMPTS):
        candidate = tid or generate_tid()
        if not tid and model._default_manager.filter(tid__iexact=candidate).exists():
            continue
        try:
            with transaction.atomic():
                row = build(candidate)
                row.save(force_insert=True)
                return row, True
        except IntegrityError as error:
            if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != constraint:
                raise
        if tid:
            winner = model._default_manager.filter(tid__iexact=tid).first()
            if is_retry(winner, digest):
                return winner, False
            raise BusinessRuleError(TID_TAKEN)
    raise RuntimeError("could not draw an unused tid")


def insert_for_uid(model: type[Row], *, uid: str, member_model: type[models.Model], tid: str | None,
                   build: Callable[[str], Row]) -> Row | None:
    """The creation's first statement when its own checks passed (issue 13: one round trip): `build(tid)` (a
    generated tid when none is given; its member left unset) inserted for the member whose uid is `uid` ignoring
    case -> the row, its id and member set; None, having written nothing, when there is no such member or the tid
    is taken (ON CONFLICT on the UPPER(tid) index DO NOTHING: a concurrent insert of the tid is waited for). The
    caller then answers as before: the retry, or its checks' messages (or, for a generated tid that collided, the
    insert again through insert_with_tid).

    Column values as Model.save(force_insert=True) writes them (pre_save: auto_now_add stamped now).
    `member_model`: the members' model (ledger.models.Member), passed in: this package imports no app.
    """
    row = build(tid or generate_tid())
    meta, member_meta, quote = model._meta, member_model._meta, connection.ops.quote_name
    (member_field,) = [field for field in meta.concrete_fields if field.name == "member"]
    fields = [field for field in meta.concrete_fields if not field.primary_key and field is not member_field]
    values = [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
    member_fields = member_meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in [*fields, member_field])
    sql = (
        f"WITH member AS (SELECT {', '.join(f'm.{quote(f.column)}' for f in member_fields)}"
        f" FROM {quote(member_meta.db_table)} AS m WHERE UPPER(m.uid::text) = UPPER(%s)),"
        f" inserted AS (INSERT INTO {quote(meta.db_table)} ({columns})"
        f" SELECT {', '.join(['%s'] * len(fields))}, member.id FROM member"
        f" ON CONFLICT ((UPPER(tid::text))) DO NOTHING RETURNING id)"
        f" SELECT inserted.id, member.* FROM inserted, member"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [uid, *values])
        found = cursor.fetchone()
    if found is None:
        return None
    row.pk = found[0]
    setattr(row, member_field.name, member_model.from_db(connection.alias, [f.attname for f in member_fields],
                                                          list(found[1:])))
    row._state.adding, row._state.db = False, connection.alias
    return row
