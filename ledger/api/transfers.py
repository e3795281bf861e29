"""POST /transfers/new — several balanced postings at once (management-api.md §4.20)."""

from __future__ import annotations

from ledger import services
from ledger.api.operations import code_is_member_scope, render_operation
from ledger.models import AccountType, Transfer
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import ArrayOf, ChartCode, CurrencyCode, DecimalParam, Integer, Object, Params, String
from peatio_mgmt.management_api.routes import endpoint

# The order of the entity's keys (§3.5); a group without postings is omitted.
GROUPS = ((AccountType.LIABILITY, "liabilities"), (AccountType.ASSET, "assets"),
          (AccountType.EXPENSE, "expenses"), (AccountType.REVENUE, "revenues"))


def _account(name: str) -> Object:
    return Object(name, [ChartCode(required=True), String("uid", required=code_is_member_scope)], required=True)


PARAMS = Params(
    Integer("key", required=True),
    String("kind", required=True),
    String("desc"),
    ArrayOf(
        "operations",
        [CurrencyCode(required=True), DecimalParam("amount", required=True, positive=True),
         _account("account_src"), _account("account_dst")],
        required=True,
    ),
)


def render_transfer(transfer: Transfer, postings: list[dict]) -> dict:
    """The Transfer entity from the transfer and its postings (selectors.OPERATION_FIELDS rows, in posting order)."""
    body = {"key": transfer.key, "kind": transfer.kind, "desc": transfer.desc}
    for type_, name in GROUPS:
        group = [render_operation(row) for row in postings if row["type"] == type_]
        if group:
            body[name] = group
    return body


@endpoint(params=PARAMS, response=entities.TRANSFER)
def transfer_new(values: dict) -> dict:
    """Create a transfer of one or more operations, each a debit on its source and a credit on its destination."""
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
    transfer, postings = services.transfer_create(key=values["key"], kind=values["kind"], desc=values["desc"], legs=legs)
    return render_transfer(transfer, postings)
