"""The ledger's business services of the management API: one posting (/<type>/new, an operator's correction),
transfers (/transfers/new) and members (/members, /members/update). Every balance they change goes through the
ledger core (ledger.core: Entry, the account locks and the posting writer), in the service's own transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from ledger.core import Entry, Reference
from ledger.models import ChartAccount, Currency, Member, Operation, ReferenceType, Transfer
from ledger.selectors import transfer_postings
from operators.services import Operator, audit_record
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.idempotency import request_digest

# Operations and transfers of the management API (management-api.md §4.11–4.20) ----------------------------------

KEY_TAKEN = "Key has already been taken"
KIND_BLANK = "Kind can't be blank"
KIND_TOO_LONG = "Kind is too long (maximum is 30 characters)"
DESC_TOO_LONG = "Desc is too long (maximum is 255 characters)"


def _members_by_uid(uids: Iterable[str]) -> dict[str, Member]:
    """The members named by uids, keyed by the uid as given; any unknown uid is a 404.

    One query; the comparison ignores case the way the database's unique UPPER(uid) index does (and uses it).
    """
    wanted = sorted(set(uids))
    if not wanted:
        return {}
    members = {
        member.asked: member
        for member in Member.objects.raw(
            "SELECT members.*, asked.uid AS asked FROM members"
            " JOIN unnest(%s::text[]) AS asked(uid) ON UPPER(members.uid) = UPPER(asked.uid)",
            [wanted],
        )
    }
    if len(members) != len(wanted):
        raise RecordNotFound()
    return members


@transaction.atomic(durable=True)
def operation_post(*, account: ChartAccount, currency: Currency, side: str, amount: Decimal, uid: str | None = None,
                   operator: Operator | None = None, reason: str = "") -> Operation:
    """One posting through /<type>/new, or an operator's correction (audited with the `reason`): member-scope codes
    move the member's balance or locked, platform codes none.

    Look-up first (unknown member: 404), then the core refuses a currency type mismatch or missing funds (422).
    """
    member = _members_by_uid([uid])[uid] if account.is_member_scope else None
    (operation,) = Entry().add(account, currency, side, amount, member).post()
    audit_record(actor=operator, action="post_correction", obj=operation, from_state=None, to_state=None,
                 amount=amount, currency=currency, note=f"{side} {account.code}{f' {uid}' if member else ''}: {reason}")
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
        side = {"code": chart_account.code}
        if chart_account.is_member_scope:
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


def transfer_insert(*, key: int, kind: str, desc: str | None, digest: str | None) -> Transfer | None:
    """Insert the transfer row; None when a transfer with this key exists (committed).

    ON CONFLICT DO NOTHING waits, like the unique index, for a concurrent transaction inserting the same key and
    then inserts (it failed) or returns nothing (it committed) — without the savepoint an IntegrityError needs.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO transfers (key, kind, \"desc\", request_digest, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, now(), now()) ON CONFLICT (key) DO NOTHING RETURNING id, created_at",
            [key, kind, desc, digest],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    transfer = Transfer(pk=row[0], key=key, kind=kind, desc=desc, request_digest=digest, created_at=row[1], updated_at=row[1])
    transfer._state.adding, transfer._state.db = False, connection.alias
    return transfer


def _posting_row(operation: Operation) -> dict:
    """A posted operation as the selectors' OPERATION_FIELDS row (what the API renders), without reading it back."""
    return {
        "id": operation.pk, "type": operation.type, "code_id": operation.code_id, "currency_id": operation.currency_id,
        "debit": operation.debit, "credit": operation.credit,
        "member__uid": operation.member.uid if operation.member is not None else None,
        "reference_type": operation.reference_type, "created_at": operation.created_at,
    }


@transaction.atomic(durable=True)
def transfer_create(*, key: int, kind: str, desc: str | None, legs: list[TransferLeg]) -> tuple[Transfer, list[dict]]:
    """Create the transfer and post its operations, all or nothing (management-api.md §4.20, domain.md §8).

    Returns the transfer and its postings in the order they were made (selectors.OPERATION_FIELDS rows).
    The Transfer row is inserted first: a concurrent request with the same key waits for the first one to end,
    then either inserts (the first failed and left nothing) or sees the committed winner and is answered as a
    retry (same parameters: the stored transfer, nothing posted) or refused.
    Look-ups of every operation's members come before the business rules (§1.6); the postings of all operations
    form one Entry, so the member accounts are locked in (member, currency) order before anything is posted.
    """
    _check_transfer_fields(kind, desc)
    digest = transfer_digest(key=key, kind=kind, desc=desc, legs=legs)
    transfer = transfer_insert(key=key, kind=kind, desc=desc, digest=digest)
    if transfer is None:
        stored = Transfer.objects.get(key=key)
        if stored.request_digest != digest:
            raise BusinessRuleError(KEY_TAKEN)
        return stored, transfer_postings(stored)

    def uids(leg: TransferLeg):
        for account, uid in ((leg.source, leg.source_uid), (leg.destination, leg.destination_uid)):
            if account.is_member_scope:
                yield uid

    members = _members_by_uid(uid for leg in legs for uid in uids(leg))

    def member(account: ChartAccount, uid: str | None) -> Member | None:
        return members[uid] if account.is_member_scope else None

    entry = Entry(Reference(ReferenceType.TRANSFER, transfer.pk))
    for leg in legs:
        entry.debit(leg.source, leg.currency, leg.amount, member(leg.source, leg.source_uid))
        entry.credit(leg.destination, leg.currency, leg.amount, member(leg.destination, leg.destination_uid))
    return transfer, [_posting_row(operation) for operation in entry.post()]


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
    given = {"email": email.lower() if email is not None else None, "level": level, "state": state,
             "group": group.strip().lower() if group is not None else None}
    changes = {name: value for name, value in given.items() if value is not None and getattr(member, name) != value}
    if "email" in changes:
        taken = Member.objects.filter(email=changes["email"]).exclude(pk=member.pk).exists()
        failures = _email_failures(changes["email"], taken=taken)
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
