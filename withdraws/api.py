"""The withdraw routes (management-api.md §4.6–4.9): WithdrawViewSet, its input serializers and the Withdraw entity."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger.models import CurrencyType
from ledger.selectors import member_named
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.management_api.fields import AmountField, CurrencyCode, ExactDecimal, Limit, Page, String, TimeField, amount, iso_time
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet
from withdraws import selectors, services
from withdraws.models import Withdraw, WithdrawState


class WithdrawSerializer(Entity):
    """Withdraw entity (§3.3)."""

    tid = serializers.CharField()
    uid = serializers.CharField()
    currency = serializers.CharField()
    type = serializers.ChoiceField(choices=CurrencyType.values)
    amount = AmountField()
    fee = AmountField()
    rid = serializers.CharField()
    state = serializers.ChoiceField(choices=WithdrawState.values)
    created_at = TimeField()
    blockchain_txid = serializers.CharField(allow_null=True, required=False, help_text="coin withdraws only")

    @staticmethod
    def render(withdraw: Withdraw) -> dict:
        body = {
            "tid": withdraw.tid,
            "uid": withdraw.member.uid,
            "currency": withdraw.currency_id,
            "type": withdraw.type,
            "amount": amount(withdraw.amount),
            "fee": amount(withdraw.fee),
            "rid": withdraw.rid,
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


class WithdrawGetParams(Params):
    tid = String(required=True)


class WithdrawNewParams(Params):
    uid = String(required=True)
    tid = String()
    rid = String(required=True)
    currency = CurrencyCode(required=True)
    amount = ExactDecimal(required=True)
    action = String(choices=["process"])


class WithdrawActionParams(Params):
    tid = String(required=True)
    action = String(required=True, choices=["process", "cancel"])


class WithdrawViewSet(ManagementViewSet):
    scopes = {"list": "read_withdraws", "get_by_tid": "read_withdraws", "new": "write_withdraws",
              "apply_action": "write_withdraws"}

    @extend_schema(request=WithdrawListParams, responses={201: WithdrawSerializer(many=True)})
    def list(self, request):
        """List withdraws, newest first."""
        values = self.validated(WithdrawListParams)
        withdraws = selectors.withdraw_list(member=member_named(values["uid"]), currency=values["currency"],
                                            state=values["state"])
        return self.paginated(withdraws, lambda rows: WithdrawSerializer.represent_many(rows))

    @extend_schema(request=WithdrawGetParams, responses={201: WithdrawSerializer})
    def get_by_tid(self, request):
        """One withdraw by its exact tid."""
        values = self.validated(WithdrawGetParams)
        return Response(WithdrawSerializer.represent(selectors.withdraw_get_by_tid(values["tid"])), status=201)

    @extend_schema(request=WithdrawNewParams, responses={201: WithdrawSerializer})
    def new(self, request):
        """Create a withdraw and lock the funds; optionally process it."""
        values = self.validated(WithdrawNewParams)
        withdraw = services.withdraw_create(
            uid=values["uid"], currency=values["currency"], amount=values["amount"], rid=values["rid"],
            tid=values["tid"] or None, process=values["action"] == "process", request_digest=request_digest(values),
        )
        return Response(WithdrawSerializer.represent(withdraw), status=201)

    @extend_schema(request=WithdrawActionParams, responses={200: WithdrawSerializer})
    def apply_action(self, request):
        """Process or cancel a withdraw."""
        values = self.validated(WithdrawActionParams)
        return Response(WithdrawSerializer.represent(services.withdraw_action(tid=values["tid"], action=values["action"])))
