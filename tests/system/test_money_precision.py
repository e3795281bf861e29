"""32-digit amounts (16 integer + 16 fractional digits) through the threaded server: every digit survives.

gunicorn's gthread workers run requests in threads whose decimal context would be Python's 28-digit default;
these flows move the largest amounts NUMERIC(32,16) holds and read the balances back over HTTP.
"""

from __future__ import annotations

import secrets

import pytest

from tests.system.conftest import balance, fund

pytestmark = pytest.mark.system

AMOUNT = "1234567890123456.1234567890123456"
ETH_ADDRESS = "0x" + "ab" * 20
IBAN = "DE89370400440532013000"


def test_fiat_deposit_of_32_digits_is_credited_exactly(system):
    uid = system.new_member()
    created = system.post("deposits/new", {"uid": uid, "currency": "xts", "amount": AMOUNT, "state": "accepted"})
    assert created.status == 201, created.body
    assert created.json()["amount"] == AMOUNT
    assert balance(system, uid, "xts") == {"uid": uid, "balance": AMOUNT, "locked": "0.0"}

    # eur deducts a fee of 1.5: the net amount keeps all 32 digits
    created = system.post("deposits/new", {"uid": uid, "currency": "eur", "amount": AMOUNT, "state": "accepted"})
    assert created.status == 201, created.body
    assert balance(system, uid, "eur") == {"uid": uid, "balance": "1234567890123454.6234567890123456", "locked": "0.0"}
    system.check_ledger()


@pytest.mark.parametrize(("currency", "rid"), [("xts", IBAN), ("eth", ETH_ADDRESS)])
def test_withdraw_of_the_full_32_digit_balance_locks_it_all_and_cancel_gives_it_back(system, currency, rid):
    uid = system.new_member()
    fund(system, uid, currency, AMOUNT)

    created = system.post("withdraws/new", {"uid": uid, "currency": currency, "amount": AMOUNT, "rid": rid})
    assert created.status == 201, created.body
    assert (created.json()["amount"], created.json()["fee"]) == (AMOUNT, "0.0")
    assert balance(system, uid, currency) == {"uid": uid, "balance": "0.0", "locked": AMOUNT}

    canceled = system.put("withdraws/action", {"tid": created.json()["tid"], "action": "cancel"})
    assert canceled.status == 200, canceled.body
    assert balance(system, uid, currency) == {"uid": uid, "balance": AMOUNT, "locked": "0.0"}
    system.check_ledger()


def test_quick_fiat_withdraw_of_the_full_32_digit_balance_leaves_nothing(system):
    uid = system.new_member()
    fund(system, uid, "xts", AMOUNT)

    created = system.post("withdraws/new", {"uid": uid, "currency": "xts", "amount": AMOUNT, "rid": IBAN,
                                            "action": "process"})
    assert created.status == 201, created.body
    assert created.json()["state"] == "succeed"
    assert balance(system, uid, "xts") == {"uid": uid, "balance": "0.0", "locked": "0.0"}
    system.check_ledger()


def test_transfer_of_32_digits_between_members_is_exact(system):
    alice, bob = system.new_member(), system.new_member()
    fund(system, alice, "eth", AMOUNT)

    def transfer(source: str, destination: str, amount: str):
        operation = {"currency": "eth", "amount": amount, "account_src": {"code": 202, "uid": source},
                     "account_dst": {"code": 202, "uid": destination}}
        answer = system.post("transfers/new", {"key": secrets.randbits(62), "kind": "move", "operations": [operation]})
        assert answer.status == 201, answer.body
        return answer.json()

    body = transfer(alice, bob, AMOUNT)
    assert [op.get("debit") or op.get("credit") for op in body["liabilities"]] == [AMOUNT, AMOUNT]
    assert balance(system, alice, "eth") == {"uid": alice, "balance": "0.0", "locked": "0.0"}
    assert balance(system, bob, "eth") == {"uid": bob, "balance": AMOUNT, "locked": "0.0"}

    transfer(bob, alice, "0.0000000000000001")
    assert balance(system, bob, "eth")["balance"] == "1234567890123456.1234567890123455"
    assert balance(system, alice, "eth")["balance"] == "0.0000000000000001"
    system.check_ledger()


def test_liability_debit_and_credit_of_32_digits_are_exact(system):
    uid = system.new_member()
    fund(system, uid, "xts", AMOUNT)

    debited = system.post("liabilities/new", {"currency": "xts", "code": 201, "uid": uid, "debit": AMOUNT})
    assert debited.status == 201, debited.body
    assert debited.json()["debit"] == AMOUNT
    assert balance(system, uid, "xts") == {"uid": uid, "balance": "0.0", "locked": "0.0"}

    credited = system.post("liabilities/new", {"currency": "xts", "code": 201, "uid": uid, "credit": AMOUNT})
    assert credited.status == 201, credited.body
    assert balance(system, uid, "xts") == {"uid": uid, "balance": AMOUNT, "locked": "0.0"}
    system.check_ledger()
