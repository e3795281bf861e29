"""The four journals: /assets, /expenses, /revenues, /liabilities and their /new routes (management-api.md §4.11–4.19).

One implementation parameterised by the account type; the eight handlers named in routes.py are its instances.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ledger import selectors, services
from ledger.models import AccountType
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import (ChartCode, CurrencyCode, DecimalParam, ExactlyOneOf, Integer, Limit,
                                               Page, Params, String)
from peatio_mgmt.management_api.render import ListResult, amount, iso_time, paginate
from peatio_mgmt.management_api.routes import endpoint

# Seconds since the epoch that a datetime can hold (years 1..9999); a filter beyond them selects everything or
# nothing, exactly as the clamped bound does.
EPOCH_RANGE = (int(datetime(1, 1, 1, tzinfo=UTC).timestamp()), int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()))


def epoch_time(seconds: int | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(min(max(seconds, EPOCH_RANGE[0]), EPOCH_RANGE[1]), UTC)


def render_operation(row: dict) -> dict:
    """Operation entity (§3.4) from a selectors.OPERATION_FIELDS row: one of credit/debit, uid only with a member."""
    body = {"code": str(row["code_id"]), "currency": row["currency_id"]}
    if row["credit"]:
        body["credit"] = amount(row["credit"])
    else:
        body["debit"] = amount(row["debit"])
    if row["member__uid"] is not None:
        body["uid"] = row["member__uid"]
    body["reference_type"] = row["reference_type"]
    body["created_at"] = iso_time(row["created_at"])
    return body


def code_is_member_scope(values: dict) -> bool:
    # `code` is None when it failed its own check: uid is then not asked for (management-api.md §4.19).
    return values["code"] is not None and values["code"].is_member_scope


def _list_endpoint(type_: str):
    with_uid = type_ == AccountType.LIABILITY
    params = [CurrencyCode()]
    if with_uid:
        params += [String("uid"), String("reference_type"), Integer("time_from"), Integer("time_to"), Page(), Limit(10000)]
    else:
        params += [Page(), Limit(), Integer("time_from"), Integer("time_to"), String("reference_type")]

    @endpoint(params=Params(*params), response=entities.many(entities.OPERATION),
              summary=f"List the postings of the {type_} accounts, newest first.")
    def handler(values: dict) -> ListResult:
        member = selectors.member_named(values["uid"]) if with_uid else None
        ids = selectors.operation_ids(
            type_=type_,
            currency=values["currency"],
            member=member,
            reference_type=values["reference_type"],
            time_from=epoch_time(values["time_from"]),
            time_to=epoch_time(values["time_to"]),
        )
        page, total = paginate(ids, page=values["page"], limit=values["limit"])
        rows = selectors.operations_by_id(page)
        return ListResult([render_operation(row) for row in rows], total, values["page"], values["limit"])

    handler.__name__ = handler.__qualname__ = f"{type_}_list"
    return handler


def _new_endpoint(type_: str):
    params = [CurrencyCode(required=True), ChartCode(types=[type_], required=True)]
    if type_ == AccountType.LIABILITY:
        params.append(String("uid", required=code_is_member_scope))
    params += [DecimalParam("debit", positive=True), DecimalParam("credit", positive=True)]

    @endpoint(params=Params(*params, groups=[ExactlyOneOf("debit", "credit")]), response=entities.OPERATION,
              summary=f"Post one operation on a {type_} account.")
    def handler(values: dict) -> dict:
        side = services.DEBIT if values["debit"] is not None else services.CREDIT
        operation = services.operation_post(
            account=values["code"],
            currency=values["currency"],
            side=side,
            amount=values[side],
            uid=values.get("uid"),
        )
        return render_operation(selectors.operation_get(operation.pk))

    handler.__name__ = handler.__qualname__ = f"{type_}_new"
    return handler


asset_list = _list_endpoint(AccountType.ASSET)
asset_new = _new_endpoint(AccountType.ASSET)
expense_list = _list_endpoint(AccountType.EXPENSE)
expense_new = _new_endpoint(AccountType.EXPENSE)
revenue_list = _list_endpoint(AccountType.REVENUE)
revenue_new = _new_endpoint(AccountType.REVENUE)
liability_list = _list_endpoint(AccountType.LIABILITY)
liability_new = _new_endpoint(AccountType.LIABILITY)
