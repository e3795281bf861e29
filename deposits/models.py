"""Deposits: money arriving for a member (domain.md §5).

Written only by deposits.services (create, and the transitions of deposits.states); accepting a deposit moves
the member's balance and writes its postings through ledger.services in the same transaction.
The database enforces: tid unique ignoring case; amount > 0, 0 <= fee < amount; (currency, txid, txout) unique.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from ledger.models import MONEY, Currency, CurrencyType, Member


class DepositState(models.TextChoices):
    SUBMITTED = "submitted"
    CANCELED = "canceled"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"
    COLLECTED = "collected"


class Deposit(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="deposits")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=4, choices=CurrencyType.choices)
    tid = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=0)
    state = models.CharField(max_length=30, choices=DepositState.choices, default=DepositState.SUBMITTED)
    address = models.CharField(max_length=95, null=True, blank=True)
    txid = models.CharField(max_length=128, null=True, blank=True)
    txout = models.IntegerField(null=True, blank=True)
    block_number = models.IntegerField(null=True, blank=True)
    confirmations = models.IntegerField(default=0)
    # SHA-256 of the canonical request parameters, to answer a retry with the same tid (management-api.md §1.8).
    request_digest = models.CharField(max_length=64, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "deposits"
        indexes = [
            models.Index(fields=["member", "id"], name="deposits_member_id"),
            models.Index(fields=["currency", "id"], name="deposits_currency_id"),
            models.Index(fields=["state", "id"], name="deposits_state_id"),
        ]
        constraints = [
            models.UniqueConstraint(Upper("tid"), name="deposits_tid_upper_uniq"),
            models.UniqueConstraint(
                fields=["currency", "txid", "txout"], condition=Q(txid__isnull=False), name="deposits_currency_txid_txout_uniq"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposits_amount_gt_0"),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(fee__lt=F("amount")), name="deposits_fee_lt_amount"),
            models.CheckConstraint(condition=Q(block_number__isnull=True) | Q(block_number__gte=0), name="deposits_block_number_gte_0"),
        ]

    def __str__(self) -> str:
        return f"deposit {self.tid}"
