"""The ledger in the console: members (with their money, read-only), currencies, the chart, the four journals
(read-only for everyone; corrections are new postings through the ledger core) and transfers with their postings."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from deposits.models import Deposit
from ledger import services
from ledger.core import CREDIT, DEBIT
from ledger.currency_form import CurrencyForm
from ledger.models import Account, AccountType, ChartAccount, Currency, Member, Operation, Transfer
from ledger.money import format_amount
from operators import services as operators
from operators.audited import AuditedChanges
from operators.services import preview
from peatio_mgmt.admin_fields import AmountField
from peatio_mgmt.admin_readonly import ReadOnly, ReadOnlyAdmin
from peatio_mgmt.errors import DomainError, RecordNotFound
from trades.models import Trade
from trades.services import markets_disable_for_currency
from withdraws.models import Withdraw

RECENT = 20  # rows per inline on the member page: the most recent ones
POST_CORRECTION = "ledger.post_correction"
WALLET_FIELDS = ("wallet_gateway", "wallet_settings")


# Members -------------------------------------------------------------------------------------------------------


class RecentFormSet(BaseInlineFormSet):
    """Only the RECENT newest rows of the member's (possibly long) history: one LIMITed query per inline."""

    def get_queryset(self):
        if not hasattr(self, "_recent"):
            self._recent = super().get_queryset()[:RECENT]
        return self._recent


def _amount_column(name: str):
    """A read-only column showing an amount as the ledger renders it (a DecimalField shows all 16 places)."""
    return admin.display(description=name)(lambda inline, row: format_amount(getattr(row, name)))


class MoneyInline(ReadOnly, admin.TabularInline):
    """A read-only table of the member's records: money changes only through services."""

    balance_, locked_, amount_, fee_, sum_, debit_, credit_, price_, volume_, funds_ = map(
        _amount_column, ("balance", "locked", "amount", "fee", "sum", "debit", "credit", "price", "volume", "funds"))

    formset = RecentFormSet
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-id",)
    related: tuple[str, ...] = ("currency",)  # select_related by the table

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class AccountInline(MoneyInline):
    model = Account
    fields = ("currency", "balance_", "locked_", "updated_at")
    ordering = ("currency",)
    show_change_link = False


class DepositInline(MoneyInline):
    model = Deposit
    verbose_name_plural = f"deposits (most recent {RECENT})"
    fields = ("tid", "currency", "amount_", "fee_", "state", "created_at")


class WithdrawInline(MoneyInline):
    model = Withdraw
    verbose_name_plural = f"withdraws (most recent {RECENT})"
    fields = ("tid", "currency", "sum_", "fee_", "amount_", "state", "rid", "txid", "created_at")


class LiabilityInline(MoneyInline):
    model = Operation
    fk_name = "member"
    verbose_name_plural = f"liability postings (most recent {RECENT})"
    fields = ("id", "code", "currency", "debit_", "credit_", "reference_type", "reference_id", "created_at")
    related = ("currency", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(type=AccountType.LIABILITY)


class TradeInline(MoneyInline):
    model = Trade
    fields = ("id", "market", "price_", "volume_", "funds_", "taker_type", "created_at")
    related = ("market",)


class AskTradeInline(TradeInline):
    fk_name = "ask_member"
    verbose_name_plural = f"trades as seller (most recent {RECENT})"


class BidTradeInline(TradeInline):
    fk_name = "bid_member"
    verbose_name_plural = f"trades as buyer (most recent {RECENT})"


@admin.register(Member)
class MemberAdmin(AuditedChanges, admin.ModelAdmin):
    list_display = ("uid", "email", "level", "role", "group", "state", "created_at")
    list_filter = ("state", "role", "group")
    search_fields = ("=uid", "email")
    show_full_result_count = False
    inlines = (AccountInline, DepositInline, WithdrawInline, LiabilityInline, AskTradeInline, BidTradeInline)

    def get_readonly_fields(self, request, obj=None):
        # The group is the partner's label, set through the API (/members, /members/update): shown, not edited here.
        return ("uid", "group") if obj is not None else ()


# Currencies and the chart ---------------------------------------------------------------------------------------


@admin.register(Currency)
class CurrencyAdmin(AuditedChanges, admin.ModelAdmin):
    form = CurrencyForm  # §15.1 checks of an ethereum gateway's settings, as on seed
    audit_secret_fields = ("wallet_settings",)  # may hold RPC credentials
    list_display = ("id", "name", "type", "symbol", "precision", "enabled", "withdraw_fee", "deposit_fee", "position")
    list_filter = ("type", "enabled")
    search_fields = ("id", "name")

    def get_readonly_fields(self, request, obj=None):
        # Where a currency's money is sent from is a separate permission (operators.roles).
        return () if request.user.has_perm("ledger.change_wallet_gateway") else WALLET_FIELDS

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "enabled" in form.changed_data and not obj.enabled:
            markets_disable_for_currency(currency=obj)


@admin.register(ChartAccount)
class ChartAccountAdmin(AuditedChanges, admin.ModelAdmin):
    list_display = ("code", "type", "kind", "currency_type", "scope", "description")
    list_filter = ("type", "currency_type", "scope")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("member", "currency", "balance", "locked", "updated_at")
    list_filter = ("currency",)
    search_fields = ("=member__uid",)
    list_select_related = ("member",)


# The journals -----------------------------------------------------------------------------------------------------


class CorrectionForm(forms.Form):
    code = forms.ModelChoiceField(queryset=ChartAccount.objects.order_by("code"), to_field_name="code",
                                  help_text="The account of the chart to post to.")
    currency = forms.ModelChoiceField(queryset=Currency.objects.order_by("position", "id"))
    side = forms.ChoiceField(choices=[(DEBIT, "debit"), (CREDIT, "credit")])
    amount = AmountField(max_digits=32, decimal_places=16, min_value=0)
    uid = forms.CharField(label="Member UID", max_length=32, required=False,
                          help_text="Required for a member account (liability codes), ignored otherwise.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000,
                             help_text="Why the books need this posting: kept in the audit trail.")

    def clean(self):
        data = super().clean()
        account = data.get("code")
        if account is not None and account.is_member_scope and not data.get("uid", "").strip():
            self.add_error("uid", "A member account needs the member's UID.")
        if data.get("amount") is not None and data["amount"] <= 0:
            self.add_error("amount", "The amount must be greater than 0.")
        return data


def _correction_shown(data: dict) -> list:
    """What the confirmation page of a correction shows, as its token binds it."""
    return [data["code"].code, data["currency"].pk, data["side"], format_amount(data["amount"]), data["uid"].strip(),
            data["reason"]]


def _post_correction(*, operator, data: dict):
    """operation_post with the operator and the reason (the service records the audit)."""
    account = data["code"]
    return services.operation_post(account=account, currency=data["currency"], side=data["side"],
                                   amount=data["amount"], uid=data["uid"].strip() if account.is_member_scope else None,
                                   operator=operator, reason=data["reason"])


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "code", "currency", "member", "debit", "credit", "reference_type", "reference_id", "created_at")
    list_filter = ("type", "code", "currency", "reference_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=member__uid",)
    search_help_text = "Member UID"
    list_select_related = ("member", "code")
    show_full_result_count = False

    def get_urls(self):
        view = self.admin_site.admin_view(self.post_correction_view)
        return [path("post-correction/", view, name="ledger_operation_post_correction"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_post_correction": request.user.has_perm(POST_CORRECTION)}
        return super().changelist_view(request, extra_context)

    def post_correction_view(self, request):
        """Form, confirmation (the posting as the ledger core would write it, rolled back), then the posting."""
        if not request.user.has_perm(POST_CORRECTION):
            raise PermissionDenied
        form = CorrectionForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Post a correction"}
        if request.method == "POST" and form.is_valid():
            confirmed = request.POST.get("confirm") == "yes"
            shown = _correction_shown(form.cleaned_data)
            try:
                if confirmed:
                    # the posting its page showed, once (an amount changed since, a second submit: refused)
                    operators.confirmation_redeem(request.POST.get(operators.CONFIRMATION_FIELD),
                                                  operator_id=request.user.pk, control=POST_CORRECTION, shown=shown)
                    operation = _post_correction(operator=request.user, data=form.cleaned_data)
                else:
                    seen = preview(lambda: _post_correction(operator=request.user, data=form.cleaned_data))
                    operation, member_account = seen.obj, seen.account
            except operators.ConfirmationRefused as refused:
                form.add_error(None, str(refused))
            except RecordNotFound:
                form.add_error("uid", "No member has this UID.")
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                if confirmed:
                    self.message_user(request, f"Posted {operation}", messages.SUCCESS)
                    return redirect(reverse("admin:ledger_operation_change", args=[operation.pk]))
                context.update(confirming=True, operation=operation, member_account=member_account,
                               title="Confirm the correction", confirmation_field=operators.CONFIRMATION_FIELD,
                               confirmation=operators.confirmation_issue(operator_id=request.user.pk,
                                                                         control=POST_CORRECTION, shown=shown))
        return TemplateResponse(request, "admin/ledger/operation/post_correction.html", context)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "desc", "created_at")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=key",)
    readonly_fields = ("key", "kind", "desc", "created_at", "postings")
    fields = readonly_fields

    @admin.display(description="postings")
    def postings(self, transfer: Transfer):
        operations = (Operation.objects.filter(reference_type="transfer", reference_id=transfer.pk)
                      .select_related("member").order_by("id"))
        rows = format_html_join(
            "", "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((reverse("admin:ledger_operation_change", args=[o.pk]), o.pk, o.type, o.code_id, o.currency_id,
              o.member.uid if o.member else "", o.debit, o.credit) for o in operations),
        )
        return format_html(
            "<table id='transfer-postings'><thead><tr><th>#</th><th>type</th><th>code</th><th>currency</th>"
            "<th>member</th><th>debit</th><th>credit</th></tr></thead><tbody>{}</tbody></table>", rows)
