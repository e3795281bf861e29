"""Withdraws: money leaving for a member's rid (domain.md §6).

Written only by withdraws.services — the transitions of withdraws.states, called by the API, the Celery workers
and the operators' admin actions alike; the funds and postings of a transition go through the ledger core
(ledger.core) in the same transaction, the withdraw row locked first.
The database enforces: tid unique ignoring case; sum > 0, amount > 0, fee >= 0, amount + fee = sum;
(currency, txid) unique.

Beneficiaries (management-api-extensions.md §8.3): a member's registered payout destinations, written only by
withdraws.beneficiaries (create, state change). The database enforces: one pending-or-active beneficiary per
(member, currency, rid) (partial unique index); name and rid not blank; data a JSON object; only state and
updated_at change, and the state only pending -> active -> archived or pending -> archived (trigger, migration
0005); rows are never deleted. A withdraw made with a beneficiary has its member, currency and rid: the composite
foreign key (beneficiary_id, member_id, currency_id, rid) -> beneficiaries, MATCH SIMPLE (migration 0005).
simulated_wallet_sends is the simulated gateway's wallet (written only by withdraws.gateways.simulated, on its own
connection): one send per (currency, reference), amount > 0.
"""

from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Lower, Upper
from django.db.models.lookups import Exact

from events.models import EventSource
from ledger.models import MONEY, Currency, CurrencyType, Digits, Member
from peatio_mgmt.exact_json import ExactJSONField


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
    # numbers with exactly their digits, written and read as Decimal (jsonb's numeric keeps them all)
    data = ExactJSONField(default=dict, db_default={}, blank=True)
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


class Withdraw(EventSource):
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="withdraws")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=4, choices=CurrencyType.choices)
    tid = models.CharField(max_length=64)
    rid = models.CharField(max_length=95)
    # The beneficiary the withdraw was made with (§7.13). The database checks the composite key (beneficiary,
    # member, currency, rid) instead of this column alone (migration 0005): no single-column constraint or index.
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


# --- the ethereum gateway's signed transactions (domain.md §15.8) -----------------------------------------------
# Written only by withdraws.gateways.ethereum: a row is inserted (nonce reserved, raw bytes and hash stored) in the
# send's transaction before anything is broadcast; broadcasts and receipts update its bookkeeping columns.
# The database enforces one signed transaction per withdraw and per (chain, sender, nonce).

WEI: Digits = {"max_digits": 78, "decimal_places": 0}


class EthereumHotWallet(models.Model):
    """The next nonce this system will sign with, per (chain, hot wallet); its row lock serialises signing."""

    chain_id = models.BigIntegerField()
    address = models.CharField(max_length=42)
    next_nonce = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ethereum_hot_wallets"
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "address"], name="ethereum_hot_wallets_chain_address_uniq"),
            models.CheckConstraint(condition=Q(next_nonce__gte=0), name="ethereum_hot_wallets_next_nonce_gte_0"),
            models.CheckConstraint(condition=Q(address=Lower("address")), name="ethereum_hot_wallets_address_lower"),
        ]


class EthereumTransaction(models.Model):
    withdraw = models.OneToOneField(Withdraw, on_delete=models.PROTECT, related_name="ethereum_transaction")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    chain_id = models.BigIntegerField()
    from_address = models.CharField(max_length=42)
    to_address = models.CharField(max_length=42)
    nonce = models.BigIntegerField()
    value_wei = models.DecimalField(**WEI)
    gas_limit = models.BigIntegerField()
    max_fee_per_gas = models.DecimalField(**WEI, null=True, blank=True)
    max_priority_fee_per_gas = models.DecimalField(**WEI, null=True, blank=True)
    gas_price = models.DecimalField(**WEI, null=True, blank=True)
    raw = models.TextField()
    hash = models.CharField(max_length=66, unique=True)
    broadcasts = models.IntegerField(default=0)
    broadcast_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    block_number = models.BigIntegerField(null=True, blank=True)
    gas_used = models.DecimalField(**WEI, null=True, blank=True)
    effective_gas_price = models.DecimalField(**WEI, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ethereum_transactions"
        constraints = [
            models.UniqueConstraint(fields=["chain_id", "from_address", "nonce"], name="ethereum_transactions_nonce_uniq"),
            models.CheckConstraint(condition=Q(value_wei__gt=0), name="ethereum_transactions_value_gt_0"),
            models.CheckConstraint(condition=Q(nonce__gte=0), name="ethereum_transactions_nonce_gte_0"),
            models.CheckConstraint(condition=Q(from_address=Lower("from_address")) & Q(to_address=Lower("to_address")),
                                   name="ethereum_transactions_addresses_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.hash} (nonce {self.nonce})"


class SimulatedSend(models.Model):
    """One send of the simulated gateway's hot wallet (withdraws.gateways.simulated): the wallet's own record, kept
    in PostgreSQL like a node keeps its wallet on disk — never in the broker's Redis, whose restart would make sent
    coins look never sent. Written only by the gateway, on a connection of its own; one send per (currency,
    reference), which makes the gateway idempotent on the withdraw's tid. `conflicted` is the definite "this
    transaction was reverted" answer a node can give (set by hand or by tests); nothing else fails a sent withdraw."""

    currency = models.CharField(max_length=10)  # a code, not a foreign key: the wallet is outside the ledger
    reference = models.CharField(max_length=64)
    txid = models.CharField(max_length=64)
    address = models.CharField(max_length=95)
    amount = models.DecimalField(**MONEY)
    sent_at = models.DateTimeField()
    conflicted = models.BooleanField(default=False)

    class Meta:
        db_table = "simulated_wallet_sends"
        constraints = [
            models.UniqueConstraint(fields=["currency", "reference"], name="simulated_sends_one_per_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="simulated_sends_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"simulated send {self.currency}:{self.reference}"


class SimulatedChainTransfer(models.Model):
    """A transfer on the simulated gateway's chain of one currency (withdraws.gateways.simulated_deposits): what
    `manage.py simulate_deposit` puts in a block for the deposit scan to find. In PostgreSQL for the reason sends
    are: a chain that a Redis restart forgot would take deposits back. The chain's genesis is the time of its
    first row in simulated_chains; block n's hash is derived from (currency, n)."""

    currency = models.CharField(max_length=10)
    txid = models.CharField(max_length=64)
    block_number = models.BigIntegerField()
    address = models.CharField(max_length=95)
    amount = models.DecimalField(**MONEY)

    class Meta:
        db_table = "simulated_chain_transfers"
        constraints = [
            models.UniqueConstraint(fields=["currency", "txid"], name="simulated_chain_one_txid"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="simulated_chain_amount_positive"),
        ]
        indexes = [models.Index(fields=["currency", "block_number"], name="simulated_chain_blocks")]


class SimulatedChain(models.Model):
    currency = models.CharField(max_length=10, primary_key=True)
    genesis = models.DateTimeField()

    class Meta:
        db_table = "simulated_chains"
