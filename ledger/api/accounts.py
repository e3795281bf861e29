"""POST /accounts/balance (management-api.md §4.1): a member's balance and locked amount in one currency;
POST /accounts/balances (management-api-extensions.md §7.1): the non-zero balances of all members in one currency."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger.api.fields import CurrencyCode
from ledger.representations import render_balance
from ledger.selectors import account_balances, member_balance
from peatio_mgmt.errors import RecordNotFound
from peatio_mgmt.management_api.fields import AmountField, Limit, Page, String
from peatio_mgmt.management_api.response import Response
from peatio_mgmt.management_api.serializers import Entity, Params
from peatio_mgmt.management_api.views import ManagementViewSet


class BalanceSerializer(Entity):
    """Balance entity (§3.1), from a selectors.member_balance tuple."""

    uid = serializers.CharField()
    balance = AmountField()
    locked = AmountField()

    render = staticmethod(render_balance)


class BalanceParams(Params):
    uid = String(required=True)
    currency = CurrencyCode(required=True)


class BalancesParams(Params):
    currency = CurrencyCode(required=True)
    page = Page()
    limit = Limit(10000, default=1000)


class AccountViewSet(ManagementViewSet):
    scopes = {"balance": "read_accounts", "balances": "read_accounts"}

    @extend_schema(request=BalanceParams, responses={201: BalanceSerializer})
    def balance(self, request):
        """Read a member's balance in a currency."""
        values = self.validated(BalanceParams)
        found = member_balance(uid=values["uid"], currency=values["currency"])
        if found is None:
            raise RecordNotFound()
        return Response(BalanceSerializer.represent(found), status=201)

    @extend_schema(request=BalancesParams, responses={201: BalanceSerializer(many=True)})
    def balances(self, request):
        """The non-zero balances of one currency (members in any state), account id ascending."""
        values = self.validated(BalancesParams)
        rows, total = account_balances(currency_id=values["currency"].pk, page=values["page"], limit=values["limit"])
        return self.page_answer(BalanceSerializer.represent_many(rows), total=total)
