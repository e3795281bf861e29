"""Withdraws in the console: read-only records, and the operators' moves (domain.md §6.4, §6.5) as admin actions,
each calling one withdraw service — the same as the API and the workers call — with the acting operator."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.utils import timezone

from operators.actions import OperatorActions, RowAction
from operators.selectors import withdraws_waiting_for_operator_ids
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from withdraws import beneficiaries, services
from withdraws.models import Beneficiary, BeneficiaryState, EthereumTransaction, Withdraw
from withdraws.models import WithdrawState as S

APPROVE = "withdraws.approve_withdraw"


def _confirming(withdraw: Withdraw) -> bool:
    return withdraw.state == S.CONFIRMING


def _approve(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_approve(withdraw_id=withdraw.pk, txid=inputs.txid or None, operator=operator)


def _process(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_process(withdraw_id=withdraw.pk, operator=operator)


def _record_txid(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_record_txid(withdraw_id=withdraw.pk, txid=inputs.txid, operator=operator)


def _cancel(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_cancel(withdraw_id=withdraw.pk, operator=operator)


def _reject(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_reject(withdraw_id=withdraw.pk, operator=operator, confirmed_risk=inputs.confirmed_risk)


def _fail(withdraw: Withdraw, inputs, operator) -> Withdraw:
    return services.withdraw_fail(withdraw_id=withdraw.pk, operator=operator, confirmed_risk=inputs.confirmed_risk)


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
        (RowAction("approve", "approve", _approve, APPROVE, takes_txid=True), "Approve selected withdraws (paid: succeed)"),
        (RowAction("process", "process", _process, APPROVE), "Process selected withdraws"),
        (RowAction("record_txid", "record the txid of", _record_txid, APPROVE, takes_txid=True),
         "Record the txid of selected coin withdraws (confirming)"),
        (RowAction("cancel", "cancel", _cancel, APPROVE), "Cancel selected withdraws"),
        (RowAction("reject", "reject", _reject, APPROVE, is_risky=_confirming, risk_warning=services.RISK_WARNING),
         "Reject selected withdraws"),
        (RowAction("fail", "fail", _fail, APPROVE, is_risky=_confirming, risk_warning=services.RISK_WARNING),
         "Fail selected withdraws"),
    )


ARCHIVE_BENEFICIARY = "withdraws.archive_beneficiary"


def _archive(beneficiary: Beneficiary, inputs, operator) -> Beneficiary:
    """The same transition and lock as PUT /beneficiaries/state (management-api-extensions.md §7.12, §8.3)."""
    return beneficiaries.beneficiary_state_change(beneficiary_id=beneficiary.pk, uid=beneficiary.member.uid,
                                                  state=BeneficiaryState.ARCHIVED, operator=operator)


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
