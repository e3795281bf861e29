"""POST /accounts/balance (management-api.md §4.1): a member's balance and locked amount in one currency."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger.selectors import member_balance
from peatio_mgmt.errors import RecordNotFound
from peatio_mgmt.management_api.fields import AmountField, CurrencyCode, String, amount
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet


class BalanceSerializer(Entity):
    """Balance entity (§3.1), from a selectors.member_balance tuple."""

    uid = serializers.CharField()
    balance = AmountField()
    locked = AmountField()

    @staticmethod
    def render(found: tuple) -> dict:
        uid, balance, locked = found
        return {"uid": uid, "balance": amount(balance), "locked": amount(locked)}


class BalanceParams(Params):
    uid = String(required=True)
    currency = CurrencyCode(required=True)


class AccountViewSet(ManagementViewSet):
    scopes = {"balance": "read_accounts"}

    @extend_schema(request=BalanceParams, responses={201: BalanceSerializer})
    def balance(self, request):
        """Read a member's balance in a currency."""
        values = self.validated(BalanceParams)
        found = member_balance(uid=values["uid"], currency=values["currency"])
        if found is None:
            raise RecordNotFound()
        return Response(BalanceSerializer.represent(found), status=201)
