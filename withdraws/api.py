"""The withdraw routes (management-api.md §4.6–4.9, management-api-extensions.md §7.13): WithdrawViewSet, its input
serializers and the Withdraw entity; the beneficiary routes (§7.10–7.12): BeneficiaryViewSet and its entity."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger.api.fields import CurrencyCode
from ledger.models import CurrencyType
from ledger.selectors import member_named
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.management_api.fields import (
    AmountField,
    ExactDecimal,
    FromId,
    Integer,
    JsonObject,
    Limit,
    Page,
    String,
    TimeField,
    amount,
    iso_time,
)
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, ExactlyOneOf, Params
from peatio_mgmt.management_api.views import ManagementViewSet
from withdraws import beneficiaries, selectors, services
from withdraws.models import BeneficiaryState, Withdraw, WithdrawState
from withdraws.representations import render_beneficiary


class WithdrawSerializer(Entity):
    """Withdraw entity (§3.3; `id`, `beneficiary_id`: management-api-extensions.md §6.1)."""

    id = serializers.IntegerField()
    tid = serializers.CharField()
    uid = serializers.CharField()
    currency = serializers.CharField()
    type = serializers.ChoiceField(choices=CurrencyType.values)
    amount = AmountField()
    fee = AmountField()
    rid = serializers.CharField()
    beneficiary_id = serializers.IntegerField(allow_null=True, help_text="null when made with a rid")
    state = serializers.ChoiceField(choices=WithdrawState.values)
    created_at = TimeField()
    blockchain_txid = serializers.CharField(allow_null=True, required=False, help_text="coin withdraws only")

    @staticmethod
    def render(withdraw: Withdraw) -> dict:
        body = {
            "id": withdraw.pk,
            "tid": withdraw.tid,
            "uid": withdraw.member.uid,
            "currency": withdraw.currency_id,
            "type": withdraw.type,
            "amount": amount(withdraw.amount),
            "fee": amount(withdraw.fee),
            "rid": withdraw.rid,
            "beneficiary_id": withdraw.beneficiary_id,
            "state": withdraw.state,
            "created_at": iso_time(withdraw.created_at),
        }
        if withdraw.type == CurrencyType.COIN:
            body["blockchain_txid"] = withdraw.txid
        return body


class WithdrawListParams(Params):
    uid = String(help_text="The shared user ID (empty: no filter).")
    currency = CurrencyCode()
    page = Page()
    limit = Limit()
    state = String(choices=WithdrawState.values)
    from_id = FromId()


class WithdrawGetParams(Params):
    tid = String(required=True)


class WithdrawNewParams(Params):
    uid = String(required=True)
    tid = String()
    rid = String()
    currency = CurrencyCode(required=True)
    amount = ExactDecimal(required=True)
    action = String(choices=["process"])
    beneficiary_id = Integer()

    groups = [ExactlyOneOf("rid", "beneficiary_id")]


class WithdrawActionParams(Params):
    tid = String(required=True)
    action = String(required=True, choices=["process", "cancel"])


class WithdrawViewSet(ManagementViewSet):
    scopes = {"list": "read_withdraws", "get_by_tid": "read_withdraws", "new": "write_withdraws",
              "apply_action": "write_withdraws"}

    @extend_schema(request=WithdrawListParams, responses={201: WithdrawSerializer(many=True)})
    def list(self, request):
        """List withdraws, newest first; with `from_id`, the withdraws above it, oldest first, up to the settled id."""
        values = self.validated(WithdrawListParams)
        withdraws = selectors.withdraw_list(member=member_named(values["uid"]), currency=values["currency"],
                                            state=values["state"])
        return self.listed(withdraws, lambda rows: WithdrawSerializer.represent_many(rows))

    @extend_schema(request=WithdrawGetParams, responses={201: WithdrawSerializer})
    def get_by_tid(self, request):
        """One withdraw by its exact tid."""
        values = self.validated(WithdrawGetParams)
        return Response(WithdrawSerializer.represent(selectors.withdraw_get_by_tid(values["tid"])), status=201)

    @extend_schema(request=WithdrawNewParams, responses={201: WithdrawSerializer})
    def new(self, request):
        """Create a withdraw to a rid or to an active beneficiary and lock the funds; optionally process it."""
        values = self.validated(WithdrawNewParams)
        withdraw = services.withdraw_create(
            uid=values["uid"], currency=values["currency"], amount=values["amount"], rid=values["rid"],
            beneficiary_id=values["beneficiary_id"], tid=values["tid"] or None, process=values["action"] == "process",
            request_digest=request_digest(values),
        )
        return Response(WithdrawSerializer.represent(withdraw), status=201)

    @extend_schema(request=WithdrawActionParams, responses={200: WithdrawSerializer})
    def apply_action(self, request):
        """Process or cancel a withdraw."""
        values = self.validated(WithdrawActionParams)
        return Response(WithdrawSerializer.represent(services.withdraw_action(tid=values["tid"], action=values["action"])))


class BeneficiarySerializer(Entity):
    """Beneficiary entity (management-api-extensions.md §6.5)."""

    id = serializers.IntegerField()
    uid = serializers.CharField()
    currency = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    rid = serializers.CharField(help_text="the payout destination copied into withdraws")
    # DRF's metaclass moves declared fields out of the class (the property `data` stays); stubs cannot know
    data = serializers.DictField(help_text="as given; {} when not given")  # type: ignore[assignment]
    state = serializers.ChoiceField(choices=BeneficiaryState.values)
    created_at = TimeField()
    updated_at = TimeField()

    render = staticmethod(render_beneficiary)


class BeneficiaryNewParams(Params):
    uid = String(required=True)
    currency = CurrencyCode(required=True)
    name = String(required=True)
    rid = String()
    data = JsonObject()  # type: ignore[assignment]  # a declared field, moved out of the class by DRF's metaclass
    description = String()
    state = String(default=BeneficiaryState.PENDING, choices=[BeneficiaryState.PENDING, BeneficiaryState.ACTIVE])


class BeneficiaryListParams(Params):
    uid = String(help_text="The shared user ID (empty: no filter).")
    currency = CurrencyCode()
    state = String(choices=BeneficiaryState.values)
    page = Page()
    limit = Limit()


class BeneficiaryStateParams(Params):
    id = Integer(required=True)
    uid = String(required=True)
    state = String(required=True, choices=[BeneficiaryState.ACTIVE, BeneficiaryState.ARCHIVED])


class BeneficiaryViewSet(ManagementViewSet):
    scopes = {"list": "read_beneficiaries", "new": "write_beneficiaries", "change_state": "write_beneficiaries"}

    @extend_schema(request=BeneficiaryListParams, responses={201: BeneficiarySerializer(many=True)})
    def list(self, request):
        """List beneficiaries, newest first."""
        values = self.validated(BeneficiaryListParams)
        found = beneficiaries.beneficiary_list(member=member_named(values["uid"]), currency=values["currency"],
                                               state=values["state"])
        return self.paginated(found, lambda rows: BeneficiarySerializer.represent_many(rows))

    @extend_schema(request=BeneficiaryNewParams, responses={201: BeneficiarySerializer})
    def new(self, request):
        """Register a member's payout destination in one currency; the same request again answers it."""
        values = self.validated(BeneficiaryNewParams)
        digest = beneficiaries.beneficiary_digest(**values)
        beneficiary = beneficiaries.beneficiary_create(**values, request_digest=digest)
        return Response(BeneficiarySerializer.represent(beneficiary), status=201)

    @extend_schema(request=BeneficiaryStateParams, responses={200: BeneficiarySerializer})
    def change_state(self, request):
        """Activate or archive a member's beneficiary."""
        values = self.validated(BeneficiaryStateParams)
        beneficiary = beneficiaries.beneficiary_state_change(beneficiary_id=values["id"], uid=values["uid"],
                                                             state=values["state"])
        return Response(BeneficiarySerializer.represent(beneficiary))
