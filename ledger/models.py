"""Ledger: members, currencies, member accounts, chart of accounts, the journal and transfers.

Tables and who writes them
- Member, Currency, ChartAccount: reference data, written by the seed command and operators.
- Account (member x currency: balance, locked) and Operation (the journal): written only by the ledger core
  (ledger.core's Entry, through the ledger_post function of migration 0008), always together in one statement, the
  account rows locked. balance/locked are the running totals of the
  member's liability postings (kind main / locked) — domain.md §4.
- Transfer: one business event of several balanced postings, written by ledger.services.transfer_create.

What the database enforces (the last line of defence)
- accounts: CHECK balance >= 0 and locked >= 0; unique (member, currency).
- operations: CHECK exactly one of debit/credit positive; a trigger refuses UPDATE and DELETE (migration 0002):
  the journal is append-only, a correction is a new posting.
- transfers: unique key. members: unique UPPER(uid) and email, group matches ^[a-z0-9_-]{1,32}$. chart: unique
  code and (type, kind, currency_type).
- deposits, withdraws, operations, trades: a statement trigger publishes each writer's lower bound of the ids it
  draws (the sync guard, migration 0004; peatio_mgmt.sync reads the settled id).
- journal_checkpoint, journal_counts: written only by ledger.checkpoints (the `books` queue task), together in one
  transaction; a TRUNCATE of operations empties both (trigger, migration 0008): counts of rows that are gone would
  make every Total wrong.
"""

from typing import TypedDict

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from peatio_mgmt.exact_json import ExactJSONField


class Digits(TypedDict):
    """A DecimalField's precision, spread into it with ** (typed, so that mypy checks the keyword names)."""

    max_digits: int
    decimal_places: int


MONEY: Digits = {"max_digits": 32, "decimal_places": 16}


class CurrencyType(models.TextChoices):
    FIAT = "fiat"
    COIN = "coin"


class MemberRole(models.TextChoices):
    SUPERADMIN = "superadmin"
    ADMIN = "admin"
    ACCOUNTANT = "accountant"
    COMPLIANCE = "compliance"
    SUPPORT = "support"
    TECHNICAL = "technical"
    MEMBER = "member"
    BROKER = "broker"
    TRADER = "trader"


MEMBER_GROUP_PATTERN = r"^[a-z0-9_-]{1,32}$"


class Member(models.Model):
    ACTIVE = "active"
    DEFAULT_GROUP = "vip-0"

    uid = models.CharField(max_length=32)
    email = models.EmailField(max_length=255, unique=True)
    level = models.IntegerField(default=0)
    role = models.CharField(max_length=16, choices=MemberRole.choices, default=MemberRole.MEMBER)
    state = models.CharField(max_length=16, default=ACTIVE)
    # A label for the partner (management-api-extensions.md §6.2, §8.1); nothing in this system depends on it yet.
    group = models.CharField(max_length=32, default=DEFAULT_GROUP, db_default=DEFAULT_GROUP)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "members"
        constraints = [
            models.UniqueConstraint(Upper("uid"), name="members_uid_upper_uniq"),
            models.CheckConstraint(condition=~Q(uid=""), name="members_uid_not_blank"),
            models.CheckConstraint(condition=Q(level__gte=0), name="members_level_gte_0"),
            models.CheckConstraint(condition=Q(group__regex=MEMBER_GROUP_PATTERN), name="members_group_format"),
        ]

    def __str__(self) -> str:
        return self.uid

    @property
    def is_enabled(self) -> bool:
        return self.state == self.ACTIVE


class WalletGateway(models.TextChoices):
    MANUAL = "manual"
    SIMULATED = "simulated"
    BITCOIND = "bitcoind"
    ETHEREUM = "ethereum"


class AddressFormat(models.TextChoices):
    BITCOIN = "bitcoin"
    ETHEREUM = "ethereum"


class Currency(models.Model):
    id = models.CharField(max_length=10, primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    type = models.CharField(max_length=4, choices=CurrencyType.choices)
    symbol = models.CharField(max_length=8)
    precision = models.SmallIntegerField(default=8)
    base_factor = models.BigIntegerField(default=1)
    enabled = models.BooleanField(default=True)
    position = models.IntegerField(default=0)
    deposit_fee = models.DecimalField(**MONEY, default=0)
    min_deposit_amount = models.DecimalField(**MONEY, default=0)
    min_collection_amount = models.DecimalField(**MONEY, default=0)
    withdraw_fee = models.DecimalField(**MONEY, default=0)
    min_withdraw_amount = models.DecimalField(**MONEY, default=0)
    withdraw_limit_24h = models.DecimalField(**MONEY, default=0)
    withdraw_limit_72h = models.DecimalField(**MONEY, default=0)
    # numbers with exactly their digits (peatio_mgmt.exact_json), as the seed and the admin give them
    options = ExactJSONField(default=dict, blank=True)
    icon_url = models.CharField(max_length=255, null=True, blank=True)
    wallet_gateway = models.CharField(max_length=20, choices=WalletGateway.choices, null=True, blank=True)
    wallet_settings = ExactJSONField(default=dict, blank=True)
    min_confirmations = models.IntegerField(default=6)
    address_format = models.CharField(max_length=20, choices=AddressFormat.choices, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "currencies"
        verbose_name_plural = "currencies"
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(id=models.functions.Lower("id")), name="currencies_id_lowercase"),
            models.CheckConstraint(condition=Q(precision__gte=0, precision__lte=16), name="currencies_precision_0_16"),
            models.CheckConstraint(condition=Q(base_factor__gte=1), name="currencies_base_factor_gte_1"),
            models.CheckConstraint(condition=Q(min_confirmations__gte=1), name="currencies_min_confirmations_gte_1"),
            models.CheckConstraint(
                condition=Q(deposit_fee__gte=0, min_deposit_amount__gte=0, min_collection_amount__gte=0,
                            withdraw_fee__gte=0, min_withdraw_amount__gte=0, withdraw_limit_24h__gte=0,
                            withdraw_limit_72h__gte=0),
                name="currencies_amounts_gte_0",
            ),
            models.CheckConstraint(condition=Q(type="fiat") | Q(deposit_fee=0), name="currencies_coin_no_deposit_fee"),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_coin(self) -> bool:
        return self.type == CurrencyType.COIN


class Account(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="accounts")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    balance = models.DecimalField(**MONEY, default=0)
    locked = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "accounts"
        indexes = [
            # /accounts/balances: the non-zero accounts of one currency in id order, zero accounts never read.
            models.Index(fields=["currency", "id"], condition=Q(balance__gt=0) | Q(locked__gt=0),
                         name="accounts_nonzero_by_currency"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "currency"], name="accounts_member_currency_uniq"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="accounts_balance_gte_0"),
            models.CheckConstraint(condition=Q(locked__gte=0), name="accounts_locked_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.currency_id}"


class AccountType(models.TextChoices):
    ASSET = "asset"
    LIABILITY = "liability"
    REVENUE = "revenue"
    EXPENSE = "expense"


class AccountScope(models.TextChoices):
    MEMBER = "member"
    PLATFORM = "platform"


class AccountKind:
    MAIN = "main"
    LOCKED = "locked"


class ChartAccount(models.Model):
    code = models.IntegerField(unique=True)
    type = models.CharField(max_length=10, choices=AccountType.choices)
    kind = models.CharField(max_length=30)
    currency_type = models.CharField(max_length=4, choices=CurrencyType.choices)
    description = models.CharField(max_length=100, null=True, blank=True)
    scope = models.CharField(max_length=10, choices=AccountScope.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chart_accounts"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["type", "kind", "currency_type"], name="chart_type_kind_ctype_uniq"),
            models.CheckConstraint(condition=Q(code__gt=0), name="chart_code_gt_0"),
            models.CheckConstraint(condition=~Q(kind=""), name="chart_kind_not_blank"),
            models.CheckConstraint(
                condition=Q(scope="platform") | Q(type="liability", kind__in=["main", "locked"]),
                name="chart_member_scope_only_liability_main_locked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description or ''}".strip()

    @property
    def is_member_scope(self) -> bool:
        return self.scope == AccountScope.MEMBER


class ReferenceType(models.TextChoices):
    DEPOSIT = "deposit"
    WITHDRAW = "withdraw"
    TRANSFER = "transfer"
    TRADE = "trade"
    ORDER = "order"


class Operation(models.Model):
    """One posting of the journal. Balance of an account = Σ credit − Σ debit (domain.md §1)."""

    type = models.CharField(max_length=10, choices=AccountType.choices)
    code = models.ForeignKey(ChartAccount, to_field="code", db_column="code", on_delete=models.PROTECT, related_name="+")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reference_type = models.CharField(max_length=20, choices=ReferenceType.choices, null=True, blank=True)
    reference_id = models.BigIntegerField(null=True, blank=True)
    debit = models.DecimalField(**MONEY, default=0)
    credit = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
        db_table = "operations"
        indexes = [
            models.Index(fields=["type", "id"], name="operations_type_id"),
            models.Index(fields=["type", "currency", "id"], name="operations_type_currency_id"),
            models.Index(fields=["type", "member", "currency", "id"], name="operations_type_member_cur_id"),
            # /liabilities by uid in every currency, newest first: without it a member with many old postings sends
            # the planner backwards through the whole primary key (migration 0003).
            models.Index(fields=["type", "member", "id"], name="operations_type_member_id"),
            models.Index(fields=["type", "reference_type", "id"], name="operations_type_reftype_id"),
            models.Index(fields=["type", "created_at"], name="operations_type_created_at"),
            models.Index(fields=["reference_type", "reference_id"], name="operations_reference"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="operations_one_sided",
            ),
            models.CheckConstraint(
                condition=Q(reference_type__isnull=True, reference_id__isnull=True)
                | Q(reference_type__isnull=False, reference_id__isnull=False),
                name="operations_reference_pair",
            ),
        ]

    def __str__(self) -> str:
        side = f"debit {self.debit}" if self.debit else f"credit {self.credit}"
        return f"#{self.pk} {self.code_id} {self.currency_id} {side}"


class JournalCheckpoint(models.Model):
    """The one row saying up to which operations id the journal counts below are final (ledger.checkpoints).

    Every operations row with an id <= upto_id that will ever commit had committed when this row was written, so the
    counts of that prefix never change; a list's Total adds the postings above upto_id, counted live.
    """

    id = models.SmallIntegerField(primary_key=True, default=1)
    upto_id = models.BigIntegerField(default=0)
    advanced_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
        db_table = "journal_checkpoint"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="journal_checkpoint_one_row"),
            models.CheckConstraint(condition=Q(upto_id__gte=0), name="journal_checkpoint_upto_id_gte_0"),
        ]

    def __str__(self) -> str:
        return f"journal counted up to #{self.upto_id}"


class JournalCount(models.Model):
    """Postings with an id <= JournalCheckpoint.upto_id per (type, currency, reference_type): the keys the journal
    lists filter on without a member (`reference_type` NULL counts the postings without a reference)."""

    type = models.CharField(max_length=10, choices=AccountType.choices)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    reference_type = models.CharField(max_length=20, choices=ReferenceType.choices, null=True, blank=True)
    postings = models.BigIntegerField()

    class Meta:
        db_table = "journal_counts"
        constraints = [
            # NULLS NOT DISTINCT: one row for the postings without a reference, the target of the upsert's ON CONFLICT.
            models.UniqueConstraint(fields=["type", "currency", "reference_type"], nulls_distinct=False,
                                    name="journal_counts_key_uniq"),
            models.CheckConstraint(condition=Q(postings__gte=0), name="journal_counts_postings_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.type}/{self.currency_id}/{self.reference_type}: {self.postings}"


class Transfer(models.Model):
    key = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=30)
    desc = models.CharField(max_length=255, null=True, blank=True)
    # SHA-256 of the canonical request parameters, to answer a retry with the same key (management-api.md §1.8).
    request_digest = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "transfers"
        constraints = [models.CheckConstraint(condition=~Q(kind=""), name="transfers_kind_not_blank")]

    def __str__(self) -> str:
        return f"transfer {self.key} ({self.kind})"
