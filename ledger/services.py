"""The ledger's business services of the management API: one posting (/<type>/new, an operator's correction),
transfers (/transfers/new) and members (/members, /members/update). Every balance they change goes through the
ledger core's writer (ledger.postgres_events): /transfers/new and the journals' /new routes are one function call
each, member look-up included."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q

from ledger import postgres_events
from ledger.core import DEBIT, check_amount
from ledger.models import ChartAccount, Currency, Member, Operation, Transfer
from ledger.money import ZERO
from ledger.selectors import transfer_postings
from operators.services import Operator, audit_record
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.idempotency import request_digest

# Operations and transfers of the management API (management-api.md §4.11–4.20) ----------------------------------

KIND_BLANK = "Kind can't be blank"
KIND_TOO_LONG = "Kind is too long (maximum is 30 characters)"
DESC_TOO_LONG = "Desc is too long (maximum is 255 characters)"


def operation_post(*, account: ChartAccount, currency: Currency, side: str, amount: Decimal, uid: str | None = None,
                   operator: Operator | None = None, reason: str = "") -> Operation:
    """One posting through /<type>/new, or an operator's correction (audited with the `reason`): member-scope codes
    move the member's balance or locked, platform codes none.

    One statement (ledger.postgres_events): look-up first (unknown member: 404), then a currency type mismatch or
    missing funds (422). From the API (no operator) the statement is its own transaction; an operator's posting and
    its audit record are one transaction.
    """
    check_amount(amount)
    debit, credit = (amount, ZERO) if side == DEBIT else (ZERO, amount)
    if operator is None:
        return postgres_events.operation_post(account=account, currency=currency, debit=debit, credit=credit, uid=uid)
    with transaction.atomic(durable=True):
        operation = postgres_events.operation_post(account=account, currency=currency, debit=debit, credit=credit,
                                                   uid=uid)
        audit_record(actor=operator, action="post_correction", obj=operation, from_state=None, to_state=None,
                     amount=amount, currency=currency,
                     note=f"{side} {account.code}{f' {uid}' if account.is_member_scope else ''}: {reason}")
    return operation


@dataclass(frozen=True)
class TransferLeg:
    """One operation of a transfer: `amount` of `currency` from the source account to the destination account."""

    currency: Currency
    amount: Decimal
    source: ChartAccount
    destination: ChartAccount
    source_uid: str | None = None
    destination_uid: str | None = None


def transfer_digest(*, key: int, kind: str, desc: str | None, legs: list[TransferLeg]) -> str:
    """The request digest of a transfer (management-api.md §1.8); a uid counts only where the code uses it,
    uppercased (uids ignore case)."""

    def account(chart_account: ChartAccount, uid: str | None) -> dict:
        side: dict[str, int | str] = {"code": chart_account.code}
        if chart_account.is_member_scope:
            assert uid is not None, "a member-scope code comes with a uid (the transfer's params require it)"
            side["uid"] = uid.upper()
        return side

    return request_digest({
        "key": key,
        "kind": kind,
        "desc": desc,
        "operations": [
            {
                "currency": leg.currency,
                "amount": leg.amount,
                "account_src": account(leg.source, leg.source_uid),
                "account_dst": account(leg.destination, leg.destination_uid),
            }
            for leg in legs
        ],
    })


def _check_transfer_fields(kind: str, desc: str | None) -> None:
    if not kind.strip():
        raise BusinessRuleError(KIND_BLANK)
    if len(kind) > 30:
        raise BusinessRuleError(KIND_TOO_LONG)
    if desc is not None and len(desc) > 255:
        raise BusinessRuleError(DESC_TOO_LONG)


def transfer_create(*, key: int, kind: str, desc: str | None, legs: list[TransferLeg]) -> tuple[Transfer, list[dict]]:
    """Create the transfer and post its operations, all or nothing (management-api.md §4.20, domain.md §8).

    Returns the transfer and its postings in the order they were made (selectors.OPERATION_FIELDS rows).
    One statement (ledger.postgres_events.transfer_create, its own transaction unless the caller has one): the
    Transfer row first — a concurrent request with the same key waits for the first one to end, then either
    inserts (the first failed and left nothing) or sees the committed winner and is answered as a retry (same
    parameters: the stored transfer, nothing posted) or refused; then the look-ups of every operation's members
    (§1.6), then the business rules, the member accounts locked in (member, currency) order before anything is
    posted. Each leg is a debit on its source then a credit on its destination.
    """
    _check_transfer_fields(kind, desc)
    for leg in legs:
        check_amount(leg.amount)
    digest = transfer_digest(key=key, kind=kind, desc=desc, legs=legs)
    created = postgres_events.transfer_create(key=key, kind=kind, desc=desc, digest=digest, postings=[
        posting for leg in legs for posting in (
            (leg.source, leg.currency, leg.source_uid, leg.amount, ZERO),
            (leg.destination, leg.currency, leg.destination_uid, ZERO, leg.amount),
        )
    ])
    if created is None:
        stored = Transfer.objects.get(key=key)
        return stored, transfer_postings(stored)
    return created


# Members (management-api-extensions.md §7.3, §7.5, §8.7) --------------------------------------------------------

UID_BLANK = "Uid can't be blank"
UID_TOO_LONG = "Uid is too long (maximum is 32 characters)"
UID_TAKEN = "Uid has already been taken"
EMAIL_INVALID = "Email is invalid"
EMAIL_TOO_LONG = "Email is too long (maximum is 255 characters)"
EMAIL_TAKEN = "Email has already been taken"
MEMBER_UNIQUE_INDEXES = ("members_uid_upper_uniq", "members_email_key")
# A lost race is judged again against the winner; a second lost race in a row would mean a third writer
# winning each time: still a clean 422, never a loop.
CREATE_ATTEMPTS = 3


def _constraint(error: IntegrityError) -> str | None:
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


def _email_failures(email: str, *, taken: bool) -> list[str]:
    """The email checks of /members and /members/update, in order."""
    failures = []
    try:
        validate_email(email)
    except ValidationError:
        failures.append(EMAIL_INVALID)
    if len(email) > 255:
        failures.append(EMAIL_TOO_LONG)
    if taken:
        failures.append(EMAIL_TAKEN)
    return failures


@transaction.atomic(durable=True)
def member_create(*, uid: str, email: str, level: int = 0, role: str = "member", state: str = Member.ACTIVE,
                  group: str = Member.DEFAULT_GROUP) -> Member:
    """POST /members: the member, or — when one with this uid (ignoring case) has exactly these fields — the stored
    member, nothing written (a retry, §5.4). Email is lowercased, group trimmed and lowercased.

    BusinessRuleError lists every failing check in the contract's order: Uid can't be blank, Uid is too long
    (maximum is 32 characters), Uid has already been taken, Email is invalid, Email is too long (maximum is 255
    characters), Email has already been taken. The insert runs in a savepoint: a concurrent creation that wins the
    unique index on UPPER(uid) or email makes this one wait for it and then judge the request against its row.
    """
    email, group = email.lower(), group.strip().lower()
    wanted = {"email": email, "level": level, "role": role, "state": state, "group": group}
    for _ in range(CREATE_ATTEMPTS):
        # The member with this uid and the owner of this email in one statement, so one snapshot: a concurrent
        # winner is seen in both roles or in neither.
        found = list(Member.objects.filter(Q(uid__iexact=uid) | Q(email=email))) if uid else list(
            Member.objects.filter(email=email))
        existing = next((m for m in found if uid and m.uid.upper() == uid.upper()), None)
        if existing is not None and all(getattr(existing, name) == value for name, value in wanted.items()):
            return existing
        failures = []
        if not uid.strip():
            failures.append(UID_BLANK)
        if len(uid) > 32:
            failures.append(UID_TOO_LONG)
        if existing is not None:
            failures.append(UID_TAKEN)
        failures += _email_failures(email, taken=any(m.email == email and m != existing for m in found))
        if failures:
            raise BusinessRuleError(*failures)
        try:
            with transaction.atomic():
                return Member.objects.create(uid=uid, **wanted)
        except IntegrityError as error:
            if _constraint(error) not in MEMBER_UNIQUE_INDEXES:
                raise
    raise BusinessRuleError(UID_TAKEN)


@transaction.atomic(durable=True)
def member_update(*, uid: str, email: str | None = None, level: int | None = None, state: str | None = None,
                  group: str | None = None) -> Member:
    """PUT /members/update: the member (by uid ignoring case, row locked; RecordNotFound) with the given fields.

    BusinessRuleError with `email`: Email is invalid, Email is too long (maximum is 255 characters), Email has
    already been taken (by another member). Fields equal to the stored values change nothing; when nothing
    changes, nothing is written and updated_at is kept. The role is not changed here (operators do it).
    """
    member = Member.objects.select_for_update().filter(uid__iexact=uid).first() if uid else None
    if member is None:
        raise RecordNotFound()
    email = email.lower() if email is not None else None
    given = {"email": email, "level": level, "state": state,
             "group": group.strip().lower() if group is not None else None}
    changes = {name: value for name, value in given.items() if value is not None and getattr(member, name) != value}
    if email is not None and "email" in changes:  # in changes only when given
        taken = Member.objects.filter(email=email).exclude(pk=member.pk).exists()
        failures = _email_failures(email, taken=taken)
        if failures:
            raise BusinessRuleError(*failures)
    if not changes:
        return member
    for name, value in changes.items():
        setattr(member, name, value)
    try:
        with transaction.atomic():
            member.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as error:  # another member took the email since the check
        if _constraint(error) != "members_email_key":
            raise
        raise BusinessRuleError(EMAIL_TAKEN) from error
    return member
