"""Deposits in the console: read-only records; accountants record fiat deposits through deposit_create, operators
holding deposits.accept_deposit accept, reject or cancel them through the deposit services (operators.actions)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from deposits import services
from deposits.models import Deposit, DepositScanCursor, PaymentAddress
from ledger.models import Currency, CurrencyType
from operators.actions import OperatorActions, RowAction, body
from operators.services import audit_record
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from peatio_mgmt.errors import BusinessRuleError
from peatio_mgmt.idempotency import request_digest

ACCEPT = "deposits.accept_deposit"
RESCAN = "ledger.change_wallet_gateway"


def _event(service):
    return lambda deposit, inputs: body(service)(deposit_id=deposit.pk)


COIN_RISK_WARNING = ("This deposit may never be received: it is below min_confirmations or its block left the chain. "
                     "Tick to credit the member anyway.")


def _accept(deposit: Deposit, inputs) -> Deposit:
    """fiat: accept; coin: accept with the operator's reason (and the risk box below min_confirmations)."""
    if deposit.type == CurrencyType.COIN:
        return body(services.deposit_operator_accept)(deposit_id=deposit.pk, reason=inputs.reason,
                                                      confirmed_risk=inputs.confirmed_risk)
    return body(services.deposit_accept)(deposit_id=deposit.pk)


def _reject(deposit: Deposit, inputs) -> Deposit:
    if deposit.type == CurrencyType.COIN:
        return body(services.deposit_operator_reject)(deposit_id=deposit.pk, reason=inputs.reason)
    return body(services.deposit_reject)(deposit_id=deposit.pk)


def _cancel(deposit: Deposit, inputs) -> Deposit:
    if deposit.type == CurrencyType.COIN:
        raise BusinessRuleError("A coin deposit is never canceled: reject it")
    return body(services.deposit_cancel)(deposit_id=deposit.pk)


def _coin_risky(deposit: Deposit) -> bool:
    return (deposit.type == CurrencyType.COIN and deposit.state == "submitted"
            and services.coin_deposit_is_risky(deposit))


class CoinDepositFilter(admin.SimpleListFilter):
    title = "chain"
    parameter_name = "chain"

    def lookups(self, request, model_admin):
        return [("awaiting", "Awaiting confirmations"), ("orphaned", "Orphaned"),
                ("accepted_orphaned", "Accepted, then orphaned")]

    def queryset(self, request, queryset):
        coin = queryset.filter(type=CurrencyType.COIN)
        if self.value() == "awaiting":
            return coin.filter(state="submitted", orphaned_at__isnull=True)
        if self.value() == "orphaned":
            return coin.filter(orphaned_at__isnull=False)
        if self.value() == "accepted_orphaned":
            return coin.filter(state="accepted", orphaned_at__isnull=False)
        return queryset


class FiatDepositForm(forms.Form):
    uid = forms.CharField(label="Member UID", max_length=32)
    currency = forms.ModelChoiceField(queryset=Currency.objects.filter(type=CurrencyType.FIAT).order_by("position", "id"))
    amount = forms.DecimalField(max_digits=32, decimal_places=16, min_value=0,
                                help_text="The amount received; the currency's deposit fee is deducted from it.")
    tid = forms.CharField(label="TID", max_length=64, required=False,
                          help_text="The bank transfer's reference; generated when left empty.")


@transaction.atomic(durable=True)
def _create(*, actor, uid: str, currency: Currency, amount, tid: str | None) -> Deposit:
    """deposit_create and its audit record, one transaction (operators.actions explains `body`)."""
    digest = request_digest({"uid": uid, "tid": tid, "currency": currency, "amount": amount, "state": None})
    deposit = body(services.deposit_create)(uid=uid, currency=currency, amount=amount, tid=tid, request_digest=digest)
    audit_record(actor=actor, action="create", obj=deposit, from_state=None, to_state=deposit.state,
                 amount=deposit.amount, currency=deposit.currency_id, note=f"fee {deposit.fee}")
    return deposit


@admin.register(Deposit)
class DepositAdmin(OperatorActions, ReadOnlyAdmin):
    list_display = ("tid", "member", "currency", "type", "amount", "fee", "state", "address", "txid",
                    "confirmations_of_min", "block_number", "orphaned", "created_at", "completed_at")
    list_filter = (CoinDepositFilter, "state", "currency", "type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("tid", "=member__uid", "txid", "=address")
    list_select_related = ("member", "currency")
    show_full_result_count = False
    row_actions = (
        (RowAction("accept", "accept", _accept, ACCEPT, takes_reason=True, is_risky=_coin_risky,
                   risk_warning=COIN_RISK_WARNING), "Accept selected deposits (credit the members)"),
        (RowAction("reject", "reject", _reject, ACCEPT, takes_reason=True), "Reject selected deposits"),
        (RowAction("cancel", "cancel", _cancel, ACCEPT), "Cancel selected fiat deposits"),
    )

    @admin.display(description="confirmations")
    def confirmations_of_min(self, deposit):
        if deposit.type != CurrencyType.COIN:
            return ""
        return f"{deposit.confirmations} / {deposit.currency.min_confirmations}"

    @admin.display(description="orphaned", boolean=True)
    def orphaned(self, deposit):
        return deposit.orphaned_at is not None if deposit.type == CurrencyType.COIN else None

    def has_add_permission(self, request):
        return request.user.has_perm("deposits.add_deposit")

    def add_view(self, request, form_url="", extra_context=None):
        """A fiat deposit recorded by deposit_create (never a model save): the member's money arrives by bank."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = FiatDepositForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                deposit = _create(actor=request.user, uid=data["uid"].strip(), currency=data["currency"],
                                  amount=data["amount"], tid=data["tid"].strip() or None)
            except BusinessRuleError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{deposit} created: {deposit.amount} {deposit.currency_id} "
                                           f"(fee {deposit.fee}), waiting to be accepted", messages.SUCCESS)
                return redirect(reverse("admin:deposits_deposit_change", args=[deposit.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a fiat deposit",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/deposits/deposit/add_fiat.html", context)


@admin.register(PaymentAddress)
class PaymentAddressAdmin(ReadOnlyAdmin):
    """Deposit addresses: read-only (kept for good); the highest derivation index per currency on top."""

    list_display = ("address", "member", "currency", "derivation_index", "created_at")
    list_filter = ("currency",)
    search_fields = ("=member__uid", "address")
    list_select_related = ("member",)

    def changelist_view(self, request, extra_context=None):
        from deposits.selectors import highest_derivation_indexes

        extra_context = {**(extra_context or {}), "highest_indexes": highest_derivation_indexes()}
        return super().changelist_view(request, extra_context)


class RescanForm(forms.Form):
    height = forms.IntegerField(label="Rescan from block", min_value=0)
    confirm = forms.BooleanField(label="Set the cursor to this block minus one, forget the stored blocks from it "
                                       "and clear a halt", required=True)


@admin.register(DepositScanCursor)
class DepositScanCursorAdmin(ReadOnlyAdmin):
    """Deposit scanning per currency: height, head, lag, halted, last error; rescan (and so resume) from a block."""

    list_display = ("currency", "gateway", "height", "head", "lag", "halted", "last_error", "last_error_at",
                    "scanned_at", "window")
    readonly_fields = list_display

    @admin.display(description="gateway")
    def gateway(self, cursor):
        return cursor.currency.wallet_gateway

    @admin.display(description="W")
    def window(self, cursor):
        return services.window(cursor.currency)

    def get_urls(self):
        from django.urls import path

        return [path("<str:currency_id>/rescan/", self.admin_site.admin_view(self.rescan_view),
                     name="deposits_depositscancursor_rescan"), *super().get_urls()]

    def rescan_view(self, request, currency_id):
        if not request.user.has_perm(RESCAN):
            raise PermissionDenied
        cursor = DepositScanCursor.objects.select_related("currency").filter(currency_id=currency_id).first()
        if cursor is None:
            raise PermissionDenied
        form = RescanForm(request.POST or None, initial={"height": cursor.height + 1})
        if request.method == "POST" and form.is_valid():
            try:
                _rescan(actor=request.user, cursor=cursor, height=form.cleaned_data["height"])
            except BusinessRuleError as error:
                form.add_error("height", str(error))
            else:
                self.message_user(request, f"{cursor}: rescanning from block {form.cleaned_data['height']}",
                                  messages.SUCCESS)
                return redirect(reverse("admin:deposits_depositscancursor_changelist"))
        context = {**self.admin_site.each_context(request), "title": f"Rescan {cursor.currency_id}",
                   "opts": self.model._meta, "form": form, "cursor": cursor}
        return TemplateResponse(request, "admin/deposits/depositscancursor/rescan.html", context)


@transaction.atomic(durable=True)
def _rescan(*, actor, cursor: DepositScanCursor, height: int) -> DepositScanCursor:
    before = f"height {cursor.height}{' halted' if cursor.halted else ''}"
    moved = body(services.deposit_scan_rescan)(currency_id=cursor.currency_id, height=height)
    audit_record(actor=actor, action="rescan", obj=moved, from_state=before, to_state=f"height {moved.height}",
                 currency=moved.currency_id, note=f"rescan from block {height}")
    return moved
