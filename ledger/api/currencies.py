"""The currency routes (management-api-extensions.md §7.6–7.7): POST /currencies/list, POST /currencies/get."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger import selectors
from ledger.models import AddressFormat, CurrencyType
from ledger.representations import render_currency
from peatio_mgmt.management_api.fields import AmountField, String, TimeField
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet


class CurrencySerializer(Entity):
    """Currency entity (§6.3): never the wallet's gateway, settings or options."""

    id = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    symbol = serializers.CharField()
    type = serializers.ChoiceField(choices=CurrencyType.values)
    enabled = serializers.BooleanField()
    precision = serializers.IntegerField(min_value=0, max_value=16)
    base_factor = serializers.IntegerField(min_value=1, help_text="written exactly (10^18 for ether)")
    position = serializers.IntegerField()
    deposit_fee = AmountField()
    min_deposit_amount = AmountField()
    min_collection_amount = AmountField()
    withdraw_fee = AmountField()
    min_withdraw_amount = AmountField()
    withdraw_limit_24h = AmountField()
    withdraw_limit_72h = AmountField()
    icon_url = serializers.CharField(allow_null=True)
    min_confirmations = serializers.IntegerField(required=False, help_text="coin only")
    address_format = serializers.ChoiceField(choices=AddressFormat.values, allow_null=True, required=False,
                                             help_text="coin only")
    created_at = TimeField()
    updated_at = TimeField()

    render = staticmethod(render_currency)


class CurrencyListParams(Params):
    type = String(choices=CurrencyType.values)


class CurrencyGetParams(Params):
    code = String(required=True)


class CurrencyViewSet(ManagementViewSet):
    scopes = {"list": "read_currencies", "get_by_code": "read_currencies"}
    unpaginated = {"list"}

    @extend_schema(request=CurrencyListParams, responses={201: CurrencySerializer(many=True)})
    def list(self, request):
        """Every currency (enabled or not), of one type when given, by position then code; not paginated."""
        values = self.validated(CurrencyListParams)
        return Response(CurrencySerializer.represent_many(selectors.currency_list(type_=values["type"])), status=201)

    @extend_schema(request=CurrencyGetParams, responses={201: CurrencySerializer})
    def get_by_code(self, request):
        """One currency by its code, as stored or entirely in uppercase."""
        values = self.validated(CurrencyGetParams)
        return Response(CurrencySerializer.represent(selectors.currency_get(code=values["code"])), status=201)
