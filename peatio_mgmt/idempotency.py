"""Identifiers of deposits and withdraws (domain.md §10) and safe retries of creations (management-api.md §1.8).

A creation keyed by a tid stores the SHA-256 of its canonical request; a later request with the same tid is a
retry when its digest is the same (answered with the stored record, nothing written), otherwise
`Tid has already been taken`. The unique index on UPPER(tid) decides between concurrent requests: the loser's
insert fails inside a savepoint, and it is judged against the winner's row like any later request.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import TypeGuard, TypeVar

from django.db import IntegrityError, models, transaction

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
