"""The four withdraw routes (management-api.md §4.6–4.9): parse, call one service or selector, render."""

from __future__ import annotations

from ledger.models import CurrencyType
from ledger.selectors import member_named
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import CurrencyCode, DecimalParam, Limit, Page, Params, String
from peatio_mgmt.management_api.render import ListResult, amount, iso_time, paginate
from peatio_mgmt.management_api.routes import endpoint
from withdraws import selectors, services
from withdraws.models import Withdraw, WithdrawState


def render_withdraw(withdraw: Withdraw) -> dict:
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


@endpoint(
    params=Params(
        String("uid", description="The shared user ID (empty: no filter)."),
        CurrencyCode(),
        Page(),
        Limit(),
        String("state", choices=WithdrawState.values),
    ),
    response=entities.many(entities.WITHDRAW),
)
def withdraw_list(values: dict) -> ListResult:
    """List withdraws, newest first."""
    member = member_named(values["uid"])
    withdraws = selectors.withdraw_list(member=member, currency=values["currency"], state=values["state"])
    rows, total = paginate(withdraws, page=values["page"], limit=values["limit"])
    return ListResult([render_withdraw(w) for w in rows], total, values["page"], values["limit"])


@endpoint(params=Params(String("tid", required=True)), response=entities.WITHDRAW)
def withdraw_get(values: dict) -> dict:
    """One withdraw by its exact tid."""
    return render_withdraw(selectors.withdraw_get_by_tid(values["tid"]))


@endpoint(
    params=Params(
        String("uid", required=True),
        String("tid"),
        String("rid", required=True),
        CurrencyCode(required=True),
        DecimalParam("amount", required=True),
        String("action", choices=["process"]),
    ),
    response=entities.WITHDRAW,
)
def withdraw_new(values: dict) -> dict:
    """Create a withdraw and lock the funds; optionally process it."""
    withdraw = services.withdraw_create(
        uid=values["uid"], currency=values["currency"], amount=values["amount"], rid=values["rid"],
        tid=values["tid"] or None, process=values["action"] == "process", request_digest=request_digest(values),
    )
    return render_withdraw(withdraw)


@endpoint(
    params=Params(String("tid", required=True), String("action", required=True, choices=["process", "cancel"])),
    response=entities.WITHDRAW,
)
def withdraw_action(values: dict) -> dict:
    """Process or cancel a withdraw."""
    return render_withdraw(services.withdraw_action(tid=values["tid"], action=values["action"]))
