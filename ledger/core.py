"""The ledger core: the only code that changes a member's balance or locked amount (domain.md §4).

A business event builds an `Entry` — its postings, each a debit or a credit on one account of the chart — and
posts it once, in one statement: the PL/pgSQL function ledger_post (migration 0008, called through
ledger.postgres_events, the core's writer) locks the member accounts it touches in (member, currency) order (so two
events on the same accounts cannot deadlock), checks every movement on the locked rows, then writes the accounts
and the postings, in the caller's transaction or its own. Either everything of the event is written or nothing is,
and a refusal writes nothing, so the caller's transaction stays usable without a savepoint.

`lock_accounts` is for services that decide on a member's funds before they post (withdraws: the funds and the
quick rule); the automatic accounts of the chart are cached per process (ledger.chart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from ledger import postgres_events
from ledger.chart import Chart, role_chart
from ledger.models import Account, AccountKind, AccountType, ChartAccount, Currency, Member, Operation
from ledger.money import ZERO, fits_numeric
from peatio_mgmt.errors import BusinessRuleError

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

    def operations(self) -> list[Operation]:
        """The postings checked, as unsaved journal rows (what post() writes, or a caller's statement embeds:
        ledger.postgres_events.post_with)."""
        self._validate()
        return [self._operation(p) for p in self.postings]

    def post(self) -> list[Operation]:
        """Check and write every posting of the event in one statement (ledger.postgres_events.entry_post): in the
        caller's transaction, or its own; raises a domain error and writes nothing on failure."""
        operations = self.operations()
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

