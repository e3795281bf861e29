"""Withdraws in the console: read-only records, and the operators' moves (domain.md §6.4, §6.5) as admin actions
calling the same withdraw services as the API and the workers (operators.actions runs them with the audit)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from ledger.models import CurrencyType
from operators.actions import OperatorActions, RowAction, body
from operators.selectors import withdraws_waiting_for_operator_ids
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from peatio_mgmt.errors import BusinessRuleError
from withdraws import beneficiaries, services
from withdraws.gateways import FAILED, GatewayError, gateway_for
from withdraws.models import Beneficiary, BeneficiaryState, EthereumTransaction, Withdraw
from withdraws.models import WithdrawState as S

APPROVE = "withdraws.approve_withdraw"
RISK_WARNING = ("The withdraw is confirming: its coins may already have left the hot wallet, yet this returns the "
                "money to the member. Tick the extra confirmation to do it anyway.")

# The events that take a withdraw from a state to succeed when an operator approves it (domain.md §6.5): a fiat
# withdraw is paid by the operator outside the exchange; a coin one needs its txid. A coin withdraw is never
# processed here on the way (processing queues a send: the coins would leave twice).
APPROVE_EVENTS: dict[tuple[str, str], tuple[str, ...]] = {  # keyed by the row's (type, state) values
    (CurrencyType.FIAT, S.ACCEPTED): ("process", "dispatch", "success"),
    (CurrencyType.FIAT, S.SKIPPED): ("process", "dispatch", "success"),
    (CurrencyType.FIAT, S.PROCESSING): ("dispatch", "success"),
    (CurrencyType.COIN, S.ACCEPTED): ("load", "success"),
    (CurrencyType.COIN, S.PROCESSING): ("dispatch", "success"),
}
SERVICES = {
    "process": services.withdraw_process, "load": services.withdraw_load, "dispatch": services.withdraw_dispatch,
    "success": services.withdraw_success,
}


def _txid(withdraw: Withdraw, typed: str) -> str | None:
    """The txid to record with the first event: the typed one, unless the withdraw already has another."""
    if not typed:
        return None
    if withdraw.type != CurrencyType.COIN:
        raise BusinessRuleError("A fiat withdraw has no txid")
    if withdraw.txid and withdraw.txid != typed:
        raise BusinessRuleError(f"The withdraw already has the txid {withdraw.txid}")
    return typed


def _approve(withdraw: Withdraw, inputs) -> Withdraw:
    txid = _txid(withdraw, inputs.txid)
    for event in APPROVE_EVENTS.get((withdraw.type, withdraw.state), ("success",)):
        withdraw = body(SERVICES[event])(withdraw_id=withdraw.pk, txid=txid)
        txid = None
    return withdraw


def _record_txid(withdraw: Withdraw, inputs) -> Withdraw:
    """coin: accepted -> confirming (load) or processing -> confirming (dispatch), the txid recorded."""
    if withdraw.type != CurrencyType.COIN:
        raise BusinessRuleError("A fiat withdraw has no txid")
    if not inputs.txid:
        raise BusinessRuleError("Enter the txid")
    service = services.withdraw_dispatch if withdraw.state == S.PROCESSING else services.withdraw_load
    return body(service)(withdraw_id=withdraw.pk, txid=_txid(withdraw, inputs.txid))


def _event(service):
    return lambda withdraw, inputs: body(service)(withdraw_id=withdraw.pk)


STILL_MINEABLE = "Cannot fail withdraw while its transaction can still be mined"


def _unless_still_mineable(service):
    """Reject or fail, refused for a confirming ethereum withdraw until the gateway's confirmations answer FAILED
    (domain.md §15.6): returning the funds while the signed transaction may still be mined would pay twice. Asked
    under the withdraw's row lock, so the preview shows the refusal per row; a node that cannot be reached
    refuses too (nothing is known)."""

    def run(withdraw: Withdraw, inputs) -> Withdraw:
        if (withdraw.state == S.CONFIRMING and withdraw.currency.wallet_gateway == "ethereum"
                and withdraw.txid):
            try:
                answer = gateway_for(withdraw.currency).confirmations(withdraw.currency, withdraw.txid)
            except GatewayError as error:
                raise BusinessRuleError(f"{STILL_MINEABLE} (the node did not answer: {error})") from error
            if answer is not FAILED:
                raise BusinessRuleError(STILL_MINEABLE)
        return body(service)(withdraw_id=withdraw.pk)

    return run


class WaitingForOperatorFilter(admin.SimpleListFilter):
    title = "operator"
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("yes", "Waiting for an operator")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=withdraws_waiting_for_operator_ids())
        return queryset


@admin.register(Withdraw)
class WithdrawAdmin(OperatorActions, ReadOnlyAdmin):
    list_display = ("tid", "member", "currency", "type", "sum", "fee", "amount", "state", "rid", "txid", "created_at")
    list_filter = (WaitingForOperatorFilter, "state", "currency", "type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("tid", "=member__uid", "rid", "txid")
    list_select_related = ("member",)
    show_full_result_count = False
    row_actions = (
        (RowAction("approve", "approve", _approve, APPROVE, takes_txid=True),
         "Approve selected withdraws (paid: succeed)"),
        (RowAction("process", "process", _event(services.withdraw_process), APPROVE), "Process selected withdraws"),
        (RowAction("record_txid", "record the txid of", _record_txid, APPROVE, takes_txid=True),
         "Record the txid of selected coin withdraws (confirming)"),
        (RowAction("cancel", "cancel", _event(services.withdraw_cancel), APPROVE), "Cancel selected withdraws"),
        (RowAction("reject", "reject", _unless_still_mineable(services.withdraw_reject), APPROVE,
                   risky_states=frozenset({S.CONFIRMING}), risk_warning=RISK_WARNING), "Reject selected withdraws"),
        (RowAction("fail", "fail", _unless_still_mineable(services.withdraw_fail), APPROVE,
                   risky_states=frozenset({S.CONFIRMING}), risk_warning=RISK_WARNING), "Fail selected withdraws"),
    )


ARCHIVE_BENEFICIARY = "withdraws.archive_beneficiary"


def _archive(beneficiary: Beneficiary, inputs) -> Beneficiary:
    """The same transition and lock as PUT /beneficiaries/state (management-api-extensions.md §7.12, §8.3)."""
    return body(beneficiaries.beneficiary_state_change)(beneficiary_id=beneficiary.pk, uid=beneficiary.member.uid,
                                                         state=BeneficiaryState.ARCHIVED)


@admin.register(Beneficiary)
class BeneficiaryAdmin(OperatorActions, ReadOnlyAdmin):
    list_display = ("id", "member", "currency", "name", "rid", "state", "created_at", "updated_at")
    list_filter = ("state", "currency")
    search_fields = ("=member__uid", "rid", "name")
    list_select_related = ("member",)
    show_full_result_count = False
    row_actions = (
        (RowAction("archive", "archive", _archive, ARCHIVE_BENEFICIARY), "Archive selected beneficiaries"),
    )


class StuckFilter(admin.SimpleListFilter):
    """Signed transactions not mined ETHEREUM_STUCK_AFTER after they were signed (domain.md §15.6): each blocks
    every later nonce of the hot wallet."""

    title = "mined"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        minutes = settings.ETHEREUM_STUCK_AFTER // 60
        return [("yes", f"Stuck: unmined for more than {minutes} minutes"), ("unmined", "Not mined yet")]

    def queryset(self, request, queryset):
        if self.value() == "unmined":
            return queryset.filter(block_number__isnull=True)
        if self.value() == "yes":
            since = timezone.now() - timedelta(seconds=settings.ETHEREUM_STUCK_AFTER)
            return queryset.filter(block_number__isnull=True, created_at__lt=since)
        return queryset


@admin.register(EthereumTransaction)
class EthereumTransactionAdmin(ReadOnlyAdmin):
    """The signed ethereum transactions (domain.md §15.8), read-only: the bytes are written once by the send, the
    rest by the broadcast and confirm workers. The raw bytes are not shown (the hash identifies them)."""

    list_display = ("hash", "nonce", "withdraw", "currency", "from_address", "to_address", "broadcasts",
                    "broadcast_at", "last_error", "block_number", "gas_used", "created_at")
    list_filter = (StuckFilter, "currency", "chain_id")
    search_fields = ("hash", "=withdraw__tid", "to_address")
    list_select_related = ("withdraw",)
    ordering = ("-id",)
    exclude = ("raw",)
    show_full_result_count = False
