"""What route 32, `POST /api/v2/management/deposit_address/new` (management-api.md 4.22, scope
`write_payment_addresses`), needs besides the service — the input rules and the output entity as plain functions,
so that the DRF viewset only wires them:

    uid, currency = deposit_address_input(data)       # ParameterError -> 422 {"error": "<messages joined by ', '>"}
    address = services.deposit_address_create(uid=uid, currency=currency)
        # RecordNotFound -> 404 {"error": "Couldn't find record."}
        # BusinessRuleError -> 422 {"errors": ["Currency is disabled"]} or ["Currency does not support deposit addresses"]
        # GatewayError -> 503 {"error": "Service unavailable."} (nothing was written)
    return 201, payment_address_entity(address)

Undeclared members of `data` (Peatio's `blockchain_key`, `remote`) are ignored.
"""

from __future__ import annotations

from decimal import Decimal

from deposits.models import PaymentAddress
from ledger import cache
from ledger.models import Currency, CurrencyType
from peatio_mgmt.management_api.params import ParameterError

SCOPE = "write_payment_addresses"
NOT_VALID = "does not have a valid value"


def _string(value) -> str | None:
    """A JSON string, or a JSON number read as its decimal text (as every String parameter of the API)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return str(value)


def deposit_address_input(data: dict) -> tuple[str, Currency]:
    """(uid, currency) of a request, checked in the contract's order: 1 `uid` (String, required), 2 `currency`
    (String, required, a coin currency code in any case, enabled or not). Every failing parameter adds one
    message: `<name> is missing`, `<name> is invalid` (not a string), `currency does not have a valid value`."""
    errors: list[str] = []
    uid = currency = None
    raw_uid = data.get("uid")
    if raw_uid is None:
        errors.append("uid is missing")
    elif (uid := _string(raw_uid)) is None:
        errors.append("uid is invalid")
    raw_currency = data.get("currency")
    if raw_currency is None:
        errors.append("currency is missing")
    elif (code := _string(raw_currency)) is None:
        errors.append("currency is invalid")
    else:
        currency = cache.currencies.get(code.lower())
        if currency is None or currency.type != CurrencyType.COIN:
            errors.append(f"currency {NOT_VALID}")
    if errors:
        raise ParameterError(errors)
    return uid, currency


def payment_address_entity(address: PaymentAddress) -> dict:
    """The PaymentAddress entity (3.7): uid, lowercase currency code, the address as the gateway made it, and when
    it was issued (ISO 8601 UTC, whole seconds, Z)."""
    from peatio_mgmt.management_api.render import iso_time

    return {"uid": address.member.uid, "currency": address.currency_id, "address": address.address,
            "created_at": iso_time(address.created_at)}
