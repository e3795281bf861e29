"""POST /accounts/balance (management-api.md §4.1): a member's balance and locked amount in one currency."""

from ledger.selectors import member_balance
from peatio_mgmt.errors import RecordNotFound
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
    found = member_balance(uid=values["uid"], currency=values["currency"])
    if found is None:
        raise RecordNotFound()
    uid, balance, locked = found
    return {"uid": uid, "balance": amount(balance), "locked": amount(locked)}
