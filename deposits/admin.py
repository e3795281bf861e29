"""Deposits in the console: read-only records; accountants record fiat deposits through deposit_create, operators
holding deposits.accept_deposit also record coin deposits of manual-gateway currencies (deposit_record_coin), and
accept, reject or cancel them through the deposit services (operators.actions), each called with the acting
operator, who is recorded in the audit trail by the service itself."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from deposits import services
from deposits.models import Deposit, DepositScanCursor, PaymentAddress
from ledger.models import Currency, CurrencyType, WalletGateway
from operators.actions import OperatorActions, RowAction
from peatio_mgmt.admin_fields import AmountField
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from peatio_mgmt.errors import BusinessRuleError
from peatio_mgmt.idempotency import request_digest

ACCEPT = "deposits.accept_deposit"
RESCAN = "ledger.change_wallet_gateway"

COIN_RISK_WARNING = ("This deposit may never be received: it is below min_confirmations or its block left the chain. "
                     "Tick to credit the member anyway.")


def _accept(deposit: Deposit, inputs, operator) -> Deposit:
    """fiat: accept; coin: accept with the operator's reason (and the risk box below min_confirmations)."""
    return services.deposit_operator_accept(deposit_id=deposit.pk, reason=inputs.reason,
                                            confirmed_risk=inputs.confirmed_risk, operator=operator)


def _reject(deposit: Deposit, inputs, operator) -> Deposit:
    return services.deposit_operator_reject(deposit_id=deposit.pk, reason=inputs.reason, operator=operator)


def _cancel(deposit: Deposit, inputs, operator) -> Deposit:
    return services.deposit_cancel(deposit_id=deposit.pk, operator=operator)


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


# Recording a coin deposit of a manual-gateway currency (domain.md §14.7) is deposits.add_deposit held by an operator
# who also accepts deposits: the accountant's add_deposit is "create fiat deposits" (operators.roles), so the form
# offers an accountant fiat currencies only. Non-manual coin currencies are never offered (the scan records them).
RECORD_COIN = ("deposits.add_deposit", ACCEPT)


def may_record_coin(user) -> bool:
    return user.has_perms(RECORD_COIN)


def _offered_currencies(user):
    kinds = Q(type=CurrencyType.FIAT)
    if may_record_coin(user):
        kinds |= Q(type=CurrencyType.COIN, wallet_gateway=WalletGateway.MANUAL)
    return Currency.objects.filter(kinds).order_by("type", "position", "id")


class DepositForm(forms.Form):
    """A fiat deposit (uid, currency, amount, tid) or, for operators who may, a coin deposit of a manual-gateway
    currency (uid, currency, amount, txid, txout, address)."""

    uid = forms.CharField(label="Member UID", max_length=32)
    currency = forms.ModelChoiceField(queryset=Currency.objects.none())
    amount = AmountField(max_digits=32, decimal_places=16, min_value=0,
                         help_text="The amount received; a fiat currency's deposit fee is deducted from it.")
    tid = forms.CharField(label="TID", max_length=64, required=False,
                          help_text="Fiat: the bank transfer's reference; generated when left empty.")
    coin_fields = ("txid", "txout", "address")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].queryset = _offered_currencies(user)
        if may_record_coin(user):
            self.fields["txid"] = forms.CharField(label="Txid", max_length=128, required=False,
                                                  help_text="Coin (manual gateway): the transaction's id.")
            self.fields["txout"] = forms.IntegerField(label="Txout", min_value=0, initial=0, required=False,
                                                      help_text="Coin: the output index (default 0).")
            self.fields["address"] = forms.CharField(label="Address", max_length=95, required=False,
                                                     help_text="Coin: the address the coins were sent to.")

    def clean(self):
        data = super().clean()
        currency = data.get("currency")
        if currency is None:
            return data
        if currency.type == CurrencyType.COIN:
            if data.get("tid"):
                self.add_error("tid", "A coin deposit's TID is generated: leave it empty")
            for name in ("txid", "address"):
                if not (data.get(name) or "").strip():
                    self.add_error(name, "This field is required for a coin deposit.")
            if data.get("txout") is None:
                data["txout"] = 0
        else:
            for name in self.coin_fields:
                if name in self.fields and data.get(name) not in (None, ""):
                    self.add_error(name, "Only for coin deposits")
        return data


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
        """A fiat deposit recorded by deposit_create, or a manual coin deposit by deposit_record_coin (never a model
        save); either waits to be accepted."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DepositForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                uid, currency, amount = data["uid"].strip(), data["currency"], data["amount"]
                if currency.type == CurrencyType.COIN:
                    deposit = services.deposit_record_coin(uid=uid, currency=currency, amount=amount,
                                                           txid=data["txid"].strip(), txout=data["txout"],
                                                           address=data["address"].strip(), operator=request.user)
                else:
                    tid = data["tid"].strip() or None
                    digest = request_digest({"uid": uid, "tid": tid, "currency": currency, "amount": amount,
                                             "state": None})
                    deposit = services.deposit_create(uid=uid, currency=currency, amount=amount, tid=tid,
                                                      request_digest=digest, operator=request.user)
            except BusinessRuleError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{deposit} created: {deposit.amount} {deposit.currency_id} "
                                           f"(fee {deposit.fee}), waiting to be accepted", messages.SUCCESS)
                return redirect(reverse("admin:deposits_deposit_change", args=[deposit.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Record a deposit" if may_record_coin(request.user) else "Record a fiat deposit",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/deposits/deposit/add.html", context)


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
                services.deposit_scan_rescan(currency_id=cursor.currency_id, height=form.cleaned_data["height"],
                                             operator=request.user)
            except BusinessRuleError as error:
                form.add_error("height", str(error))
            else:
                self.message_user(request, f"{cursor}: rescanning from block {form.cleaned_data['height']}",
                                  messages.SUCCESS)
                return redirect(reverse("admin:deposits_depositscancursor_changelist"))
        context = {**self.admin_site.each_context(request), "title": f"Rescan {cursor.currency_id}",
                   "opts": self.model._meta, "form": form, "cursor": cursor}
        return TemplateResponse(request, "admin/deposits/depositscancursor/rescan.html", context)
