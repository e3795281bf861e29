"""The four journals: /assets, /expenses, /revenues, /liabilities and their /new routes (management-api.md
§4.11–4.19): one viewset for all four, a subclass per journal naming its account type and input parameters,
and the Operation entity."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ledger import postgres_events, selectors, services
from ledger.api.fields import ChartCode, CurrencyCode
from ledger.core import CREDIT, DEBIT
from ledger.models import AccountType
from peatio_mgmt.management_api.fields import (
    AmountField,
    ExactDecimal,
    FromId,
    Integer,
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

# Seconds since the epoch that a datetime can hold (years 1..9999); a filter beyond them selects everything or
# nothing, exactly as the clamped bound does.
EPOCH_RANGE = (int(datetime(1, 1, 1, tzinfo=UTC).timestamp()), int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()))


def epoch_time(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(min(max(seconds, EPOCH_RANGE[0]), EPOCH_RANGE[1]), UTC)


class OperationSerializer(Entity):
    """Operation entity (§3.4; `id`: management-api-extensions.md §6.1) from a selectors.OPERATION_FIELDS row: one
    of credit/debit, uid only with a member."""

    id = serializers.IntegerField()
    code = serializers.RegexField(r"^[0-9]+$")
    currency = serializers.CharField()
    credit = AmountField(required=False, help_text="omitted for a debit")
    debit = AmountField(required=False, help_text="omitted for a credit")
    uid = serializers.CharField(required=False, help_text="omitted when the posting has no member")
    reference_type = serializers.CharField(allow_null=True)
    created_at = TimeField()

    @staticmethod
    def render(row: dict) -> dict:
        body = {"id": row["id"], "code": str(row["code_id"]), "currency": row["currency_id"]}
        if row["credit"]:
            body["credit"] = amount(row["credit"])
        else:
            body["debit"] = amount(row["debit"])
        if row["member__uid"] is not None:
            body["uid"] = row["member__uid"]
        body["reference_type"] = row["reference_type"]
        body["created_at"] = iso_time(row["created_at"])
        return body


def in_order(ids: list[int], rows: list[dict]) -> list[dict]:
    """`rows` in the order of the page's `ids` (newest first, or ascending with `from_id`)."""
    by_id = {row["id"]: row for row in rows}
    return [by_id[pk] for pk in ids]


def code_is_member_scope(values: dict) -> bool:
    # `code` is None when it failed its own check: uid is then not asked for (management-api.md §4.19).
    return values["code"] is not None and values["code"].is_member_scope


class JournalListParams(Params):
    currency = CurrencyCode()
    page = Page()
    limit = Limit()
    time_from = Integer()
    time_to = Integer()
    reference_type = String()
    from_id = FromId()


class LiabilityListParams(Params):
    currency = CurrencyCode()
    uid = String()
    reference_type = String()
    time_from = Integer()
    time_to = Integer()
    page = Page()
    limit = Limit(10000)
    from_id = FromId()


class JournalNewParams(Params):
    """/<journal>/new; each journal's subclass restricts `code` to its account type (a field a subclass declares
    again keeps its place, and so the order of the messages)."""

    currency = CurrencyCode(required=True)
    code = ChartCode(required=True)
    debit = ExactDecimal(positive=True)
    credit = ExactDecimal(positive=True)

    groups = [ExactlyOneOf("debit", "credit")]


class AssetNewParams(JournalNewParams):
    code = ChartCode(types=[AccountType.ASSET], required=True)


class ExpenseNewParams(JournalNewParams):
    code = ChartCode(types=[AccountType.EXPENSE], required=True)


class RevenueNewParams(JournalNewParams):
    code = ChartCode(types=[AccountType.REVENUE], required=True)


class LiabilityNewParams(Params):
    currency = CurrencyCode(required=True)
    code = ChartCode(types=[AccountType.LIABILITY], required=True)
    uid = String(required_if=code_is_member_scope)
    debit = ExactDecimal(positive=True)
    credit = ExactDecimal(positive=True)

    groups = [ExactlyOneOf("debit", "credit")]


def _documented(base, name: str, **schema):
    """`base` (an inherited action) as the subclass's own `name`, so that its OpenAPI description is the
    subclass's and not shared with the other journals."""

    def action(self, request):
        return base(self, request)

    action.__name__ = action.__qualname__ = name
    return extend_schema(**schema)(action)


class JournalViewSet(ManagementViewSet):
    """`list` and `new` of the postings of one account type: each journal below names its type and parameters."""

    account_type: str
    list_params: type[Params] = JournalListParams
    new_params: type[Params]
    scopes = {"list": "read_operations", "new": "write_operations"}

    def __init_subclass__(cls, **kwargs):
        # Each journal documents its own parameters and summary: an extend_schema on the methods here would be
        # shared by all four, and drf-spectacular's extend_schema_view does not know the `new` action.
        super().__init_subclass__(**kwargs)
        cls.list = _documented(
            JournalViewSet.list, "list", request=cls.list_params, responses={201: OperationSerializer(many=True)},
            summary=f"List the postings of the {cls.account_type} accounts, newest first (from_id: oldest first).")
        cls.new = _documented(JournalViewSet.new, "new", request=cls.new_params, responses={201: OperationSerializer},
                              summary=f"Post one operation on a {cls.account_type} account.")

    def list(self, request):
        values = self.validated(self.list_params)
        member = selectors.member_named(values.get("uid"))
        time_from, time_to = epoch_time(values["time_from"]), epoch_time(values["time_to"])
        ids = selectors.operation_ids(
            type_=self.account_type,
            currency=values["currency"],
            member=member,
            reference_type=values["reference_type"],
            time_from=time_from,
            time_to=time_to,
        )
        count = None
        if member is None and time_from is None and time_to is None:
            # Only the filters the journal checkpoint counts by: Total without a COUNT over the whole journal.
            count = partial(selectors.operation_total, type_=self.account_type, currency=values["currency"],
                            reference_type=values["reference_type"])
        return self.listed(ids, lambda page: OperationSerializer.represent_many(
            in_order(page, selectors.operations_by_id(page))), count)

    def new(self, request):
        values = self.validated(self.new_params)
        side = DEBIT if values["debit"] is not None else CREDIT
        operation = services.operation_post(
            account=values["code"], currency=values["currency"], side=side, amount=values[side], uid=values.get("uid"),
        )
        return Response(OperationSerializer.represent(postgres_events.operation_row(operation)), status=201)


class AssetViewSet(JournalViewSet):
    account_type = AccountType.ASSET
    new_params = AssetNewParams


class ExpenseViewSet(JournalViewSet):
    account_type = AccountType.EXPENSE
    new_params = ExpenseNewParams


class RevenueViewSet(JournalViewSet):
    account_type = AccountType.REVENUE
    new_params = RevenueNewParams


class LiabilityViewSet(JournalViewSet):
    account_type = AccountType.LIABILITY
    list_params = LiabilityListParams
    new_params = LiabilityNewParams
