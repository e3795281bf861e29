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
from deposits.models import Deposit
from ledger.models import Currency, CurrencyType
from operators.actions import OperatorActions, RowAction, body
from operators.services import audit_record
from peatio_mgmt.admin_readonly import ReadOnlyAdmin
from peatio_mgmt.errors import BusinessRuleError
from peatio_mgmt.idempotency import request_digest

ACCEPT = "deposits.accept_deposit"


def _event(service):
    return lambda deposit, inputs: body(service)(deposit_id=deposit.pk)


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
    list_display = ("tid", "member", "currency", "type", "amount", "fee", "state", "txid", "created_at", "completed_at")
    list_filter = ("state", "currency", "type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("tid", "=member__uid", "txid")
    list_select_related = ("member",)
    show_full_result_count = False
    row_actions = (
        (RowAction("accept", "accept", _event(services.deposit_accept), ACCEPT), "Accept selected deposits (credit the members)"),
        (RowAction("reject", "reject", _event(services.deposit_reject), ACCEPT), "Reject selected deposits"),
        (RowAction("cancel", "cancel", _event(services.deposit_cancel), ACCEPT), "Cancel selected deposits"),
    )

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
