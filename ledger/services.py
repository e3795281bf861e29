"""The ledger core: the only code that changes a member's balance or locked amount (domain.md §4).

A business event builds an `Entry` — its postings, each a debit or a credit on one account of the chart — and
posts it once, in one statement: the PL/pgSQL function ledger_post (migration 0008, called through
ledger.postgres_events) locks the member accounts it touches in (member, currency) order (so two events on the
same accounts cannot deadlock), checks every movement on the locked rows, then writes the accounts and the
postings, in the caller's transaction or its own. Either everything of the event is written or nothing is, and
a refusal writes nothing, so the caller's transaction stays usable without a savepoint.

The automatic accounts of the chart are cached per process (bench/README.md has the profile that asked for it).
/transfers/new and the journals' /new routes are one function call each, member look-up included
(transfer_create, operation_post).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from ledger import cache, postgres_events
from ledger.models import (
    Account,
    AccountKind,
    AccountType,
    ChartAccount,
    Currency,
    Member,
    Operation,
    Transfer,
)
from ledger.money import ZERO, fits_numeric
from ledger.selectors import transfer_postings
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from peatio_mgmt.idempotency import request_digest

DEBIT, CREDIT = "debit", "credit"


class InvalidAmount(BusinessRuleError):
    def __init__(self, amount: Decimal):
        super().__init__(f"Amount must be a positive decimal with at most 16 integer and 16 fractional digits, got {amount}")


def check_amount(amount: Decimal) -> None:
    if not fits_numeric(amount) or amount <= ZERO:
        raise InvalidAmount(amount)


@dataclass(frozen=True)
class Reference:
    """The business event that caused a set of postings (operations.reference_type / reference_id)."""

    type: str
    id: int


@dataclass(frozen=True)
class Posting:
    account: ChartAccount
    currency: Currency
    side: str
    amount: Decimal
    member: Member | None = None


class Chart:
    """The chart of accounts of one event, read once (ten rows by default)."""

    def __init__(self, accounts: Iterable[ChartAccount] | None = None):
        accounts = list(ChartAccount.objects.all() if accounts is None else accounts)
        self.by_code = {a.code: a for a in accounts}
        self.by_role = {(a.type, a.kind, a.currency_type): a for a in accounts}

    def get(self, code: int) -> ChartAccount | None:
        return self.by_code.get(code)

    def account(self, type_: str, kind: str, currency: Currency) -> ChartAccount:
        """The account automatic postings use, found by (type, kind, currency type) — not by code (domain.md §3)."""
        return self.by_role[(type_, kind, currency.type)]


# The chart of the automatic postings, built from the per-process rows of ledger.cache (reloaded after a change
# in this process, a role not found, or the cache's TTL) and rebuilt only when those rows were reloaded.
_role_chart: tuple[dict, Chart] | None = None


def role_chart(*, reload: bool = False) -> Chart:
    global _role_chart
    rows = cache.chart_accounts.rows(reload=reload)
    if _role_chart is None or _role_chart[0] is not rows:
        _role_chart = (rows, Chart(rows.values()))
    return _role_chart[1]


@dataclass(slots=True)
class LockedAccount:
    """A member account row locked FOR UPDATE by lock_accounts: what a service's own checks read before posting
    (withdraws: the funds and the quick rule). A plain object, not an Account model instance: five columns read,
    the row never saved through the ORM (the posting function writes it)."""

    pk: int
    member_id: int
    currency_id: str
    balance: Decimal
    locked: Decimal


def _select_for_update(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], LockedAccount]:
    condition = " OR ".join(["(member_id = %s AND currency_id = %s)"] * len(pairs))
    params = [value for pair in pairs for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, member_id, currency_id, balance, locked FROM accounts WHERE {condition}"
            " ORDER BY member_id, currency_id FOR UPDATE",
            params,
        )
        rows = [LockedAccount(*row) for row in cursor.fetchall()]
    return {(row.member_id, row.currency_id): row for row in rows}


def lock_accounts(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], LockedAccount]:
    """Lock the member accounts (member id, currency id), creating missing rows at zero; one helper, one order.

    Rows are locked in ascending (member id, currency id) order, the order every caller uses, so concurrent
    events never wait on each other in a cycle. A missing row is inserted (tolerating a concurrent insert) and
    then locked.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    locked = _select_for_update(wanted)
    missing = [key for key in wanted if key not in locked]
    if missing:
        Account.objects.bulk_create(
            [Account(member_id=m, currency_id=c) for m, c in missing], ignore_conflicts=True
        )
        locked.update(_select_for_update(missing))
    return locked


class Entry:
    """The postings of one business event, posted together by `post()`."""

    def __init__(self, reference: Reference | None = None, *, chart: Chart | None = None):
        self.reference = reference
        self._chart = chart
        self.postings: list[Posting] = []

    @property
    def chart(self) -> Chart:
        if self._chart is None:
            self._chart = Chart()
        return self._chart

    # Single postings -------------------------------------------------------------------------------------------

    def add(self, account: ChartAccount, currency: Currency, side: str, amount: Decimal, member: Member | None = None) -> Entry:
        self.postings.append(Posting(account, currency, side, amount, member))
        return self

    def debit(self, account: ChartAccount, currency: Currency, amount: Decimal, member: Member | None = None) -> Entry:
        return self.add(account, currency, DEBIT, amount, member)

    def credit(self, account: ChartAccount, currency: Currency, amount: Decimal, member: Member | None = None) -> Entry:
        return self.add(account, currency, CREDIT, amount, member)

    def _role(self, type_: str, kind: str, currency: Currency) -> ChartAccount:
        """The automatic account of a role: from this entry's chart when given, else the process's cached one."""
        if self._chart is not None:
            return self._chart.account(type_, kind, currency)
        try:
            return role_chart().account(type_, kind, currency)
        except KeyError:
            return role_chart(reload=True).account(type_, kind, currency)

    def platform(self, type_: str, currency: Currency, side: str, amount: Decimal, member: Member | None = None) -> Entry:
        """A posting on the main platform account of a type (asset/revenue/expense) for the currency's type."""
        return self.add(self._role(type_, AccountKind.MAIN, currency), currency, side, amount, member)

    # Member funds movements (domain.md §4) ---------------------------------------------------------------------

    def _liability(self, kind: str, currency: Currency) -> ChartAccount:
        return self._role(AccountType.LIABILITY, kind, currency)

    def plus_funds(self, member: Member, currency: Currency, amount: Decimal) -> Entry:
        return self.credit(self._liability(AccountKind.MAIN, currency), currency, amount, member)

    def sub_funds(self, member: Member, currency: Currency, amount: Decimal) -> Entry:
        return self.debit(self._liability(AccountKind.MAIN, currency), currency, amount, member)

    def lock_funds(self, member: Member, currency: Currency, amount: Decimal) -> Entry:
        self.debit(self._liability(AccountKind.MAIN, currency), currency, amount, member)
        return self.credit(self._liability(AccountKind.LOCKED, currency), currency, amount, member)

    def unlock_funds(self, member: Member, currency: Currency, amount: Decimal) -> Entry:
        self.debit(self._liability(AccountKind.LOCKED, currency), currency, amount, member)
        return self.credit(self._liability(AccountKind.MAIN, currency), currency, amount, member)

    def unlock_and_sub_funds(self, member: Member, currency: Currency, amount: Decimal) -> Entry:
        return self.debit(self._liability(AccountKind.LOCKED, currency), currency, amount, member)

    # Posting ---------------------------------------------------------------------------------------------------

    def _validate(self) -> None:
        for posting in self.postings:
            check_amount(posting.amount)
            if posting.account.is_member_scope and posting.member is None:
                raise ValueError(f"account {posting.account.code} is member-scope: the posting needs a member")

    def post(self) -> list[Operation]:
        """Check and write every posting of the event in one statement (ledger.postgres_events.entry_post): in the
        caller's transaction, or its own; raises a domain error and writes nothing on failure."""
        self._validate()
        operations = [self._operation(p) for p in self.postings]
        if operations:  # an entry without postings touches no account either
            postgres_events.entry_post(operations)
        return operations

    def _operation(self, posting: Posting) -> Operation:
        member = posting.member
        if member is not None and not posting.account.is_member_scope and posting.account.type != AccountType.REVENUE:
            member = None  # only member-scope postings and fee revenues name a member (domain.md §2.5)
        return Operation(
            type=posting.account.type,
            code_id=posting.account.code,
            currency_id=posting.currency.pk,
            member=member,
            reference_type=self.reference.type if self.reference else None,
            reference_id=self.reference.id if self.reference else None,
            debit=posting.amount if posting.side == DEBIT else ZERO,
            credit=posting.amount if posting.side == CREDIT else ZERO,
        )


# The named movements, each one event of its own ----------------------------------------------------------------


def plus_funds(*, member: Member, currency: Currency, amount: Decimal, reference: Reference | None = None) -> list[Operation]:
    return Entry(reference).plus_funds(member, currency, amount).post()


def sub_funds(*, member: Member, currency: Currency, amount: Decimal, reference: Reference | None = None) -> list[Operation]:
    return Entry(reference).sub_funds(member, currency, amount).post()


def lock_funds(*, member: Member, currency: Currency, amount: Decimal, reference: Reference | None = None) -> list[Operation]:
    return Entry(reference).lock_funds(member, currency, amount).post()


def unlock_funds(*, member: Member, currency: Currency, amount: Decimal, reference: Reference | None = None) -> list[Operation]:
    return Entry(reference).unlock_funds(member, currency, amount).post()


def unlock_and_sub_funds(*, member: Member, currency: Currency, amount: Decimal, reference: Reference | None = None) -> list[Operation]:
    return Entry(reference).unlock_and_sub_funds(member, currency, amount).post()


# Operations and transfers of the management API (management-api.md §4.11–4.20) ----------------------------------

KIND_BLANK = "Kind can't be blank"
KIND_TOO_LONG = "Kind is too long (maximum is 30 characters)"
DESC_TOO_LONG = "Desc is too long (maximum is 255 characters)"


def operation_post(*, account: ChartAccount, currency: Currency, side: str, amount: Decimal, uid: str | None = None) -> Operation:
    """One posting through /<type>/new: member-scope codes move the member's balance or locked, platform codes none.

    One statement (ledger.postgres_events, its own transaction unless the caller has one): look-up first (unknown
    member: 404), then a currency type mismatch or missing funds (422).
    """
    check_amount(amount)
    debit, credit = (amount, ZERO) if side == DEBIT else (ZERO, amount)
    return postgres_events.operation_post(account=account, currency=currency, debit=debit, credit=credit, uid=uid)


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
