"""POST /accounts/balance (management-api.md §4.1): a member's balance and locked amount in one currency."""

from ledger.selectors import account_balance, member_named
from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import CurrencyCode, Params, String
from peatio_mgmt.management_api.render import amount
from peatio_mgmt.management_api.routes import endpoint


@endpoint(
    params=Params(String("uid", required=True), CurrencyCode("currency", required=True)),
    response=entities.BALANCE,
)
def accounts_balance(values: dict) -> dict:
    """Read a member's balance in a currency."""
    member = member_named(values["uid"])
    account = account_balance(member=member, currency=values["currency"])
    return {"uid": member.uid, "balance": amount(account.balance), "locked": amount(account.locked)}
