"""The four deposit routes (management-api.md §4.2–4.5): parse, call one service or selector, render."""

from __future__ import annotations

from deposits import selectors, services
from deposits.models import Deposit, DepositState
from ledger.models import CurrencyType
from ledger.selectors import member_named
from peatio_mgmt.idempotency import request_digest
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import CurrencyCode, DecimalParam, Limit, Page, Params, String
from peatio_mgmt.management_api.render import ListResult, amount, iso_time, paginate
from peatio_mgmt.management_api.routes import endpoint


def render_deposit(deposit: Deposit) -> dict:
    body = {
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


@endpoint(
    params=Params(
        String("uid", description="The shared user ID (empty: no filter)."),
        CurrencyCode(),
        Page(),
        Limit(),
        String("state", choices=DepositState.values),
    ),
    response=entities.many(entities.DEPOSIT),
)
def deposit_list(values: dict) -> ListResult:
    """List deposits, newest first."""
    member = member_named(values["uid"])
    deposits = selectors.deposit_list(member=member, currency=values["currency"], state=values["state"])
    rows, total = paginate(deposits, page=values["page"], limit=values["limit"])
    return ListResult([render_deposit(d) for d in rows], total, values["page"], values["limit"])


@endpoint(params=Params(String("tid", required=True)), response=entities.DEPOSIT)
def deposit_get(values: dict) -> dict:
    """One deposit by its exact tid."""
    return render_deposit(selectors.deposit_get_by_tid(values["tid"]))


@endpoint(
    params=Params(
        String("uid", required=True),
        String("tid"),
        CurrencyCode(required=True, types=[CurrencyType.FIAT]),
        DecimalParam("amount", required=True),
        String("state", choices=[DepositState.ACCEPTED]),
    ),
    response=entities.DEPOSIT,
)
def deposit_new(values: dict) -> dict:
    """Create a fiat deposit, optionally accepted at once."""
    deposit = services.deposit_create(
        uid=values["uid"], currency=values["currency"], amount=values["amount"], tid=values["tid"] or None,
        accept=values["state"] == DepositState.ACCEPTED, request_digest=request_digest(values),
    )
    return render_deposit(deposit)


@endpoint(
    params=Params(String("tid", required=True), String("state", required=True, choices=[DepositState.ACCEPTED, DepositState.CANCELED])),
    response=entities.DEPOSIT,
)
def deposit_state(values: dict) -> dict:
    """Accept or cancel a submitted fiat deposit."""
    return render_deposit(services.deposit_set_state(tid=values["tid"], state=values["state"]))
