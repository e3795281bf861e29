"""The ledger core: the only code that changes a member's balance or locked amount (domain.md §4).

A business event builds an `Entry` — its postings, each a debit or a credit on one account of the chart — and
posts it once: the member accounts it touches are locked in one statement in (member, currency) order (so two
events on the same accounts cannot deadlock), every movement is checked on the locked rows, then the accounts
and the postings are written in one statement, all in the caller's transaction. Either everything of the event
is written or nothing is.

The hot path is three round trips inside the caller's transaction (lock, write, and the caller's commit): the
automatic accounts of the chart are cached per process (bench/README.md has the profile that asked for it), and
no savepoint is taken unless account rows must be created — the checks run before anything is written, so a
refused event leaves the caller's transaction clean without one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from ledger.chart import Chart, role_chart
from ledger.models import Account, AccountKind, AccountType, ChartAccount, Currency, Member, Operation
from ledger.money import MONEY_CONTEXT, ZERO, fits_numeric
from peatio_mgmt.errors import BusinessRuleError, InsufficientFunds

CURRENCY_TYPE_MISMATCH = "Currency type and account currency type don't match"
DEBIT, CREDIT = "debit", "credit"


class InvalidAmount(BusinessRuleError):
    def __init__(self, amount: Decimal):
        super().__init__(f"Amount must be a positive decimal with at most 16 integer and 16 fractional digits, got {amount}")


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


@dataclass(slots=True)
class LockedAccount:
    """A member account row locked FOR UPDATE: what the checks read and the write statement updates.

    A plain object, not an Account model instance: the hot path reads five columns and never saves the row
    through the ORM (building model instances from a raw query was a measurable share of a transfer's CPU).
    """

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
            if not fits_numeric(posting.amount) or posting.amount <= ZERO:
                raise InvalidAmount(posting.amount)
            if posting.account.currency_type != posting.currency.type:
                raise BusinessRuleError(CURRENCY_TYPE_MISMATCH)
            if posting.account.is_member_scope and posting.member is None:
                raise ValueError(f"account {posting.account.code} is member-scope: the posting needs a member")

    def post(self) -> list[Operation]:
        """Check and write every posting of the event; raises a domain error and writes nothing on failure."""
        self._validate()
        if not connection.in_atomic_block:
            with transaction.atomic():
                return self._post()
        return self._post()

    def _post(self) -> list[Operation]:
        member_postings = [p for p in self.postings if p.account.is_member_scope]
        keys = sorted({(p.member.pk, p.currency.pk) for p in member_postings})
        accounts = _select_for_update(keys) if keys else {}
        if len(accounts) < len(keys):
            # Rows are created: in a savepoint, so a refused event leaves none behind in the caller's transaction.
            with transaction.atomic():
                accounts.update(lock_accounts(key for key in keys if key not in accounts))
                return self._write(accounts, member_postings)
        return self._write(accounts, member_postings)

    def _write(self, accounts: dict[tuple[int, str], LockedAccount], member_postings: list[Posting]) -> list[Operation]:
        for posting in member_postings:
            _apply(accounts[(posting.member.pk, posting.currency.pk)], posting)
        operations = [self._operation(p) for p in self.postings]
        try:
            _write_accounts_and_operations(accounts.values(), operations)
        except IntegrityError as error:
            # The CHECK constraints are the last defence; reaching them is a defect of the checks above, and the
            # caller still gets the domain's answer, not a 500. The statement failed in the caller's transaction,
            # which PostgreSQL has aborted: it can only roll back.
            transaction.set_rollback(True)
            raise InsufficientFunds(InsufficientFunds.BALANCE) from error
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


def _apply(account: LockedAccount, posting: Posting) -> None:
    """Move the locked account's balance (kind main) or locked amount (kind locked) by one posting."""
    # No unary minus: it rounds in the thread's context; add/subtract in MONEY_CONTEXT are exact (or raise).
    move = MONEY_CONTEXT.add if posting.side == CREDIT else MONEY_CONTEXT.subtract
    if posting.account.kind == AccountKind.MAIN:
        balance = move(account.balance, posting.amount)
        if balance < ZERO:
            raise InsufficientFunds(InsufficientFunds.BALANCE)
        account.balance = balance
    else:
        locked = move(account.locked, posting.amount)
        if locked < ZERO:
            raise InsufficientFunds(InsufficientFunds.LOCKED)
        account.locked = locked


OPERATION_COLUMNS = ("type", "code", "currency_id", "member_id", "reference_type", "reference_id", "debit", "credit")


def _write_accounts_and_operations(accounts: Iterable[LockedAccount], operations: list[Operation]) -> None:
    """One statement: the accounts' new balance/locked and the postings; sets each operation's id and created_at."""
    if not operations:
        return  # an entry without postings touches no account either
    rows = list(accounts)
    params: list = []
    sql = ""
    if rows:
        values = ", ".join(["(%s, %s::numeric, %s::numeric)"] * len(rows))
        params += [value for a in rows for value in (a.pk, a.balance, a.locked)]
        sql = (
            f"WITH moved AS (UPDATE accounts AS a SET balance = v.balance, locked = v.locked, updated_at = now()"
            f" FROM (VALUES {values}) AS v(id, balance, locked) WHERE a.id = v.id) "
        )
    placeholders = "(" + ", ".join(["%s"] * len(OPERATION_COLUMNS)) + ")"
    sql += (
        f"INSERT INTO operations ({', '.join(OPERATION_COLUMNS)}) VALUES {', '.join([placeholders] * len(operations))}"
        " RETURNING id, created_at"
    )
    for op in operations:
        params += [op.type, op.code_id, op.currency_id, op.member_id, op.reference_type, op.reference_id, op.debit, op.credit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for op, (pk, created_at) in zip(operations, cursor.fetchall(), strict=True):
            op.pk, op.created_at = pk, created_at
            op._state.adding, op._state.db = False, connection.alias
