"""Withdraws through the running system: the plain worker and beat walk them; money is checked over HTTP."""

from __future__ import annotations

import pytest

from tests.system.conftest import balance, fund

pytestmark = pytest.mark.system

BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


def withdraw_state(system, tid: str) -> str:
    answer = system.post("withdraws/get", {"tid": tid})
    assert answer.status == 201, answer.body
    return answer.json()["state"]


def test_quick_coin_withdraw_reaches_succeed_through_the_plain_worker_and_beat(system):
    uid = system.new_member()
    fund(system, uid, "btc", "0.05")

    created = system.post("withdraws/new", {"uid": uid, "currency": "btc", "amount": "0.01", "rid": BTC_ADDRESS})
    assert created.status == 201, created.body
    tid = created.json()["tid"]

    system.wait_for(lambda: withdraw_state(system, tid) == "succeed", timeout=60, what="withdraw succeed")
    assert balance(system, uid, "btc") == {"uid": uid, "balance": "0.04", "locked": "0.0"}
    system.check_ledger()


def test_fiat_withdraw_is_accepted_by_the_audit_and_waits_for_the_partner(system):
    uid = system.new_member()
    fund(system, uid, "usd", "500")

    created = system.post("withdraws/new", {"uid": uid, "currency": "usd", "amount": "100", "rid": "DE89370400440532013000"})
    assert created.status == 201, created.body

    system.wait_for(lambda: withdraw_state(system, created.json()["tid"]) == "accepted", timeout=30, what="accepted")
    assert balance(system, uid, "usd") == {"uid": uid, "balance": "400.0", "locked": "100.0"}


def test_audit_rejects_a_coin_withdraw_to_an_invalid_address_and_unlocks_the_funds(system):
    uid = system.new_member()
    fund(system, uid, "btc", "0.05")

    created = system.post("withdraws/new", {"uid": uid, "currency": "btc", "amount": "0.01", "rid": "not-an-address"})
    assert created.status == 201, created.body

    system.wait_for(lambda: withdraw_state(system, created.json()["tid"]) == "rejected", timeout=30, what="rejected")
    assert balance(system, uid, "btc") == {"uid": uid, "balance": "0.05", "locked": "0.0"}
    system.check_ledger()
