"""The deposit routes (management-api.md §4.2–4.5): DepositViewSet, its input serializers and the Deposit entity."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from deposits import selectors, services
from deposits.models import Deposit, DepositState, PaymentAddress
from ledger.api.fields import CurrencyCode
from ledger.models import CurrencyType
from ledger.selectors import member_named
from peatio_mgmt.errors import ServiceUnavailable
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.management_api.fields import (
    AmountField,
    ExactDecimal,
    FromId,
    Limit,
    Page,
    String,
    TimeField,
    amount,
    iso_time,
)
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet
from withdraws.gateways import GatewayError


class DepositSerializer(Entity):
    """Deposit entity (§3.2; `id`: management-api-extensions.md §6.1)."""

    id = serializers.IntegerField()
    tid = serializers.CharField()
    currency = serializers.CharField()
    uid = serializers.CharField()
    type = serializers.ChoiceField(choices=CurrencyType.values)
    amount = AmountField()
    state = serializers.ChoiceField(choices=DepositState.values)
    created_at = TimeField()
    completed_at = TimeField(allow_null=True)
    blockchain_txid = serializers.CharField(allow_null=True, required=False, help_text="coin deposits only")
    blockchain_confirmations = serializers.RegexField(r"^[0-9]+$", required=False, help_text="coin deposits only")

    @staticmethod
    def render(deposit: Deposit) -> dict:
        body = {
            "id": deposit.pk,
            "tid": deposit.tid,
            "currency": deposit.currency_id,
            "uid": deposit.member.uid,
            "type": deposit.type,
            "amount": amount(deposit.amount),
            "state": deposit.state,
            "created_at": iso_time(deposit.created_at),
            "completed_at": iso_time(deposit.completed_at),
        }
        if deposit.type == CurrencyType.COIN:
            body["blockchain_txid"] = deposit.txid
            body["blockchain_confirmations"] = str(deposit.confirmations)
        return body


class DepositListParams(Params):
    uid = String(help_text="The shared user ID (empty: no filter).")
    currency = CurrencyCode()
    page = Page()
    limit = Limit()
    state = String(choices=DepositState.values)
    from_id = FromId()


class DepositGetParams(Params):
    tid = String(required=True)


class DepositNewParams(Params):
    uid = String(required=True)
    tid = String()
    currency = CurrencyCode(required=True, types=[CurrencyType.FIAT])
    amount = ExactDecimal(required=True)
    state = String(choices=[DepositState.ACCEPTED])


class DepositStateParams(Params):
    tid = String(required=True)
    state = String(required=True, choices=[DepositState.ACCEPTED, DepositState.CANCELED])


class DepositViewSet(ManagementViewSet):
    scopes = {"list": "read_deposits", "get_by_tid": "read_deposits", "new": "write_deposits",
              "state": "write_deposits"}

    @extend_schema(request=DepositListParams, responses={201: DepositSerializer(many=True)})
    def list(self, request):
        """List deposits, newest first; with `from_id`, the deposits above it, oldest first, up to the settled id."""
        values = self.validated(DepositListParams)
        deposits = selectors.deposit_list(member=member_named(values["uid"]), currency=values["currency"],
                                          state=values["state"])
        return self.listed(deposits, lambda rows: DepositSerializer.represent_many(rows))

    @extend_schema(request=DepositGetParams, responses={201: DepositSerializer})
    def get_by_tid(self, request):
        """One deposit by its exact tid."""
        values = self.validated(DepositGetParams)
        return Response(DepositSerializer.represent(selectors.deposit_get_by_tid(values["tid"])), status=201)

    @extend_schema(request=DepositNewParams, responses={201: DepositSerializer})
    def new(self, request):
        """Create a fiat deposit, optionally accepted at once."""
        values = self.validated(DepositNewParams)
        deposit = services.deposit_create(
            uid=values["uid"], currency=values["currency"], amount=values["amount"], tid=values["tid"] or None,
            accept=values["state"] == DepositState.ACCEPTED, request_digest=request_digest(values),
        )
        return Response(DepositSerializer.represent(deposit), status=201)

    @extend_schema(request=DepositStateParams, responses={200: DepositSerializer})
    def state(self, request):
        """Accept or cancel a submitted fiat deposit."""
        values = self.validated(DepositStateParams)
        return Response(DepositSerializer.represent(services.deposit_set_state(tid=values["tid"], state=values["state"])))


class PaymentAddressSerializer(Entity):
    """PaymentAddress entity (coin-deposits-ethereum-events.md 3.7)."""

    uid = serializers.CharField()
    currency = serializers.CharField()
    address = serializers.CharField(help_text="as the currency's gateway made it")
    created_at = TimeField()

    @staticmethod
    def render(address: PaymentAddress) -> dict:
        return {"uid": address.member.uid, "currency": address.currency_id, "address": address.address,
                "created_at": iso_time(address.created_at)}


class DepositAddressNewParams(Params):
    uid = String(required=True)
    currency = CurrencyCode(required=True, types=[CurrencyType.COIN], help_text="A coin currency, enabled or not.")


class DepositAddressViewSet(ManagementViewSet):
    scopes = {"new": "write_payment_addresses"}

    @extend_schema(request=DepositAddressNewParams, responses={201: PaymentAddressSerializer})
    def new(self, request):
        """The member's deposit address in a coin currency: made by the currency's gateway on the first call, the
        same one on every later call."""
        values = self.validated(DepositAddressNewParams)
        try:
            address = services.deposit_address_create(uid=values["uid"], currency=values["currency"])
        except GatewayError as error:
            raise ServiceUnavailable() from error
        return Response(PaymentAddressSerializer.represent(address), status=201)
