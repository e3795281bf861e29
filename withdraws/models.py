"""Withdraws: money leaving for a member's rid (domain.md §6).

Written only by withdraws.services — the transitions of withdraws.states, called by the API, the Celery workers
and the operators' admin actions alike; the funds and postings of a transition go through ledger.services in the
same transaction, the withdraw row locked first.
The database enforces: tid unique ignoring case; sum > 0, amount > 0, fee >= 0, amount + fee = sum;
(currency, txid) unique.

Beneficiaries (management-api-extensions.md §8.3): a member's registered payout destinations, written only by
withdraws.beneficiaries (create, state change). The database enforces: one pending-or-active beneficiary per
(member, currency, rid) (partial unique index); name and rid not blank; data a JSON object; only state and
updated_at change, and the state only pending -> active -> archived or pending -> archived (trigger, migration
0002); rows are never deleted. A withdraw made with a beneficiary has its member, currency and rid: the composite
foreign key (beneficiary_id, member_id, currency_id, rid) -> beneficiaries, MATCH SIMPLE (migration 0002).
"""

from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Upper
from django.db.models.lookups import Exact

from ledger.models import MONEY, Currency, CurrencyType, Member


class WithdrawState(models.TextChoices):
    PREPARED = "prepared"
    SUBMITTED = "submitted"
    CANCELED = "canceled"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PROCESSING = "processing"
    SKIPPED = "skipped"
    ERRORED = "errored"
    CONFIRMING = "confirming"
    SUCCEED = "succeed"
    FAILED = "failed"


class BeneficiaryState(models.TextChoices):
    PENDING = "pending"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Beneficiary(models.Model):
    # Indexed by (member_id, id) and (currency_id, id) below, which also serve the foreign keys.
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="beneficiaries", db_index=False)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=64)
    description = models.CharField(max_length=255, null=True, blank=True)
    rid = models.CharField(max_length=95)
    data = models.JSONField(default=dict, db_default={}, blank=True)
    state = models.CharField(max_length=10, choices=BeneficiaryState.choices, default=BeneficiaryState.PENDING,
                             db_default=BeneficiaryState.PENDING)
    # SHA-256 of the creating request's canonical parameters (a retry is recognised by it, §5.4).
    request_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "beneficiaries"
        verbose_name_plural = "beneficiaries"
        indexes = [
            models.Index(fields=["member", "id"], name="beneficiaries_member_id"),
            models.Index(fields=["currency", "id"], name="beneficiaries_currency_id"),
            models.Index(fields=["state", "id"], name="beneficiaries_state_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "currency", "rid"], condition=~Q(state=BeneficiaryState.ARCHIVED),
                                    name="beneficiaries_usable_rid_uniq"),
            models.UniqueConstraint(fields=["id", "member", "currency", "rid"], name="beneficiaries_destination_uniq"),
            models.CheckConstraint(condition=Q(name__regex=r"\S"), name="beneficiaries_name_not_blank"),
            models.CheckConstraint(condition=Q(rid__regex=r"\S"), name="beneficiaries_rid_not_blank"),
            models.CheckConstraint(condition=Q(state__in=BeneficiaryState.values), name="beneficiaries_state_valid"),
            models.CheckConstraint(condition=Q(request_digest__regex=r"^[0-9a-f]{64}$"),
                                   name="beneficiaries_request_digest_sha256"),
            models.CheckConstraint(
                condition=Exact(Func(F("data"), function="jsonb_typeof", output_field=models.TextField()), "object"),
                name="beneficiaries_data_object",
            ),
        ]

    def __str__(self) -> str:
        return f"beneficiary {self.pk} {self.name}"


class Withdraw(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="withdraws")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=4, choices=CurrencyType.choices)
    tid = models.CharField(max_length=64)
    rid = models.CharField(max_length=95)
    # The beneficiary the withdraw was made with (§7.13). The database checks the composite key (beneficiary,
    # member, currency, rid) instead of this column alone (migration 0002): no single-column constraint or index.
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="withdraws", db_constraint=False, db_index=False)
    sum = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=0)
    amount = models.DecimalField(**MONEY)
    state = models.CharField(max_length=30, choices=WithdrawState.choices, default=WithdrawState.PREPARED)
    txid = models.CharField(max_length=128, null=True, blank=True)
    block_number = models.IntegerField(null=True, blank=True)
    confirmations = models.IntegerField(default=0)
    attempts = models.IntegerField(default=0)
    error = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=256, null=True, blank=True)
    # SHA-256 of the canonical request parameters, to answer a retry with the same tid (management-api.md §1.8).
    request_digest = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "withdraws"
        indexes = [
            models.Index(fields=["member", "id"], name="withdraws_member_id"),
            models.Index(fields=["currency", "id"], name="withdraws_currency_id"),
            models.Index(fields=["state", "id"], name="withdraws_state_id"),
            models.Index(fields=["member", "currency", "state", "created_at"], name="withdraws_quick_rule"),
            models.Index(fields=["beneficiary"], condition=Q(beneficiary__isnull=False), name="withdraws_beneficiary_id"),
        ]
        constraints = [
            models.UniqueConstraint(Upper("tid"), name="withdraws_tid_upper_uniq"),
            models.UniqueConstraint(fields=["currency", "txid"], name="withdraws_currency_txid_uniq"),
            models.CheckConstraint(condition=Q(sum__gt=0) & Q(amount__gt=0) & Q(fee__gte=0), name="withdraws_amounts_positive"),
            models.CheckConstraint(condition=Q(sum=F("amount") + F("fee")), name="withdraws_amount_plus_fee_eq_sum"),
            models.CheckConstraint(condition=~Q(rid=""), name="withdraws_rid_not_blank"),
            models.CheckConstraint(condition=Q(block_number__isnull=True) | Q(block_number__gte=0), name="withdraws_block_number_gte_0"),
        ]

    def __str__(self) -> str:
        return f"withdraw {self.tid}"
