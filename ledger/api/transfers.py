"""POST /transfers/new — several balanced postings at once (management-api.md §4.20)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger import services
from ledger.api.fields import ChartCode, CurrencyCode
from ledger.api.journals import OperationSerializer, code_is_member_scope
from ledger.models import AccountType
from peatio_mgmt.management_api.fields import ExactDecimal, Integer, String
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet

# The order of the entity's keys (§3.5); a group without postings is omitted.
GROUPS = ((AccountType.LIABILITY, "liabilities"), (AccountType.ASSET, "assets"),
          (AccountType.EXPENSE, "expenses"), (AccountType.REVENUE, "revenues"))


class AccountParams(Params):
    code = ChartCode(required=True)
    uid = String(required_if=code_is_member_scope)


class OperationParams(Params):
    currency = CurrencyCode(required=True)
    amount = ExactDecimal(required=True, positive=True)
    account_src = AccountParams(required=True)
    account_dst = AccountParams(required=True)


class TransferParams(Params):
    key = Integer(required=True)
    kind = String(required=True)
    desc = String()
    operations = OperationParams(many=True, required=True)


class TransferSerializer(Entity):
    """Transfer entity (§3.5) from (transfer, its postings as selectors.OPERATION_FIELDS rows in posting order)."""

    key = serializers.IntegerField()
    kind = serializers.CharField()
    desc = serializers.CharField(allow_null=True)
    liabilities = OperationSerializer(many=True, required=False)
    assets = OperationSerializer(many=True, required=False)
    expenses = OperationSerializer(many=True, required=False)
    revenues = OperationSerializer(many=True, required=False)

    @staticmethod
    def render(created: tuple) -> dict:
        transfer, postings = created
        body = {"key": transfer.key, "kind": transfer.kind, "desc": transfer.desc}
        for type_, name in GROUPS:
            group = [OperationSerializer.render(row) for row in postings if row["type"] == type_]
            if group:
                body[name] = group
        return body


class TransferViewSet(ManagementViewSet):
    scopes = {"new": "write_transfers"}

    @extend_schema(request=TransferParams, responses={201: TransferSerializer})
    def new(self, request):
        """Create a transfer of one or more operations, each a debit on its source and a credit on its destination."""
        values = self.validated(TransferParams)
        legs = [
            services.TransferLeg(
                currency=op["currency"],
                amount=op["amount"],
                source=op["account_src"]["code"],
                destination=op["account_dst"]["code"],
                source_uid=op["account_src"]["uid"],
                destination_uid=op["account_dst"]["uid"],
            )
            for op in values["operations"]
        ]
        created = services.transfer_create(key=values["key"], kind=values["kind"], desc=values["desc"], legs=legs)
        return Response(TransferSerializer.represent(created), status=201)
