"""Deposits: money arriving for a member (domain.md §5).

Written only by deposits.services (create, and the transitions of deposits.states); accepting a deposit moves
the member's balance and writes its postings through the ledger core (ledger.core) in the same transaction.
The database enforces: tid unique ignoring case; amount > 0, 0 <= fee < amount; (currency, txid, txout) unique.
"""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper

from events.models import EventSource
from ledger.models import MONEY, Currency, CurrencyType, Member


class DepositState(models.TextChoices):
    SUBMITTED = "submitted"
    CANCELED = "canceled"
    REJECTED = "rejected"
    ACCEPTED = "accepted"
    SKIPPED = "skipped"
    COLLECTED = "collected"


class Deposit(EventSource):
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
    # Coin deposits (domain.md §14.1): the block holding the transfer, its exact on-chain amount in base units
    # (satoshi, wei), when its block left the canonical chain, and the reasons of operators and the scanner.
    block_hash = models.CharField(max_length=66, null=True, blank=True)
    amount_base_units = models.DecimalField(max_digits=78, decimal_places=0, null=True, blank=True)
    orphaned_at = models.DateTimeField(null=True, blank=True)
    # db_default too: every writer of the table, raw SQL included (the sync guard's tests, manual fixes), gets []
    error = models.JSONField(default=list, db_default=models.Value([], output_field=models.JSONField()), blank=True)
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
            models.Index(fields=["currency", "id"], condition=Q(type="coin", state="submitted"),
                         name="deposits_coin_submitted"),
            models.Index(fields=["currency", "block_number"], condition=Q(block_number__isnull=False),
                         name="deposits_currency_block"),
        ]
        constraints = [
            models.UniqueConstraint(Upper("tid"), name="deposits_tid_upper_uniq"),
            models.UniqueConstraint(
                fields=["currency", "txid", "txout"], condition=Q(txid__isnull=False), name="deposits_currency_txid_txout_uniq"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposits_amount_gt_0"),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(fee__lt=F("amount")), name="deposits_fee_lt_amount"),
            models.CheckConstraint(condition=Q(block_number__isnull=True) | Q(block_number__gte=0), name="deposits_block_number_gte_0"),
            models.CheckConstraint(condition=Q(amount_base_units__isnull=True) | Q(amount_base_units__gt=0),
                                   name="deposits_amount_base_units_gt_0"),
        ]

    def __str__(self) -> str:
        return f"deposit {self.tid}"


# --- coin deposits (domain.md §14.1) ---------------------------------------------------------------------------
# payment_addresses: written only by deposits.services.deposit_address_create, append-only (a trigger refuses
# UPDATE and DELETE): an address is never changed, reassigned or retired. deposit_address_sequences: its row lock
# serialises address creation per currency and keeps ethereum derivation indexes gap-free.
# deposit_scan_cursors / deposit_scan_blocks: written only by the scan pass and the operators' rescan.

MAX_DERIVATION_INDEX = 2**31 - 1  # the last non-hardened BIP-32 index


class PaymentAddress(models.Model):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payment_addresses")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=95)
    derivation_index = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "payment_addresses"
        verbose_name_plural = "deposit addresses"
        verbose_name = "deposit address"
        constraints = [
            models.UniqueConstraint(fields=["member", "currency"], name="payment_addresses_member_currency_uniq"),
            models.UniqueConstraint("currency", Lower("address"), name="payment_addresses_currency_address_uniq"),
            models.UniqueConstraint(fields=["currency", "derivation_index"], condition=Q(derivation_index__isnull=False),
                                    name="payment_addresses_currency_index_uniq"),
            models.CheckConstraint(condition=~Q(address=""), name="payment_addresses_address_not_blank"),
            models.CheckConstraint(
                condition=Q(derivation_index__isnull=True)
                | Q(derivation_index__gte=0, derivation_index__lte=MAX_DERIVATION_INDEX),
                name="payment_addresses_derivation_index_range",
            ),
        ]

    def __str__(self) -> str:
        return self.address


class DepositAddressSequence(models.Model):
    currency = models.OneToOneField(Currency, on_delete=models.PROTECT, primary_key=True, related_name="+")
    next_index = models.BigIntegerField(default=0)

    class Meta:
        db_table = "deposit_address_sequences"
        constraints = [models.CheckConstraint(condition=Q(next_index__gte=0), name="deposit_address_sequences_gte_0")]


class DepositScanCursor(models.Model):
    currency = models.OneToOneField(Currency, on_delete=models.PROTECT, primary_key=True, related_name="+")
    height = models.BigIntegerField()
    head = models.BigIntegerField(null=True, blank=True)
    halted = models.BooleanField(default=False)
    last_error = models.TextField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "deposit_scan_cursors"
        verbose_name = "deposit scan cursor"
        constraints = [models.CheckConstraint(condition=Q(height__gte=0), name="deposit_scan_cursors_height_gte_0")]

    def __str__(self) -> str:
        return f"scan of {self.currency_id}"

    @property
    def lag(self) -> int | None:
        return None if self.head is None else max(self.head - self.height, 0)


class DepositScanBlock(models.Model):
    """A block of the canonical chain as the scanner saw it. A surrogate id, (currency, number) unique: the
    admin and Django's ORM handle single-column keys everywhere."""

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    number = models.BigIntegerField()
    hash = models.CharField(max_length=66)
    parent_hash = models.CharField(max_length=66)
    scanned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deposit_scan_blocks"
        constraints = [
            models.UniqueConstraint(fields=["currency", "number"], name="deposit_scan_blocks_currency_number_uniq"),
            models.CheckConstraint(condition=Q(number__gte=0), name="deposit_scan_blocks_number_gte_0"),
        ]
