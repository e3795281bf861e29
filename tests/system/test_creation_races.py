"""Creations racing each other over HTTP, in the web server's threads: the deposit or withdraw row is inserted first
(by the member's uid, ON CONFLICT on the tid), then one statement writes the transitions, events and postings
(deposits.services.deposit_create, withdraws.services.withdraw_create). Whatever the interleaving: one row per
tid, the same answer to every repeat of the winner's request, the contract's refusals to the others, no 5xx, and
the money and event stream exactly what the answers say."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.system.conftest import balance, fund

pytestmark = pytest.mark.system

RID = "DE89370400440532013000"
TID_TAKEN = {"errors": ["Tid has already been taken"]}
INSUFFICIENT = {"errors": ["Account balance is insufficient"]}


def race(system, requests: list[tuple[str, dict]]) -> list:
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda request: system.post(*request), requests))


def test_one_tid_sent_with_two_sets_of_parameters_at_once_makes_one_withdraw(system):
    uid = system.new_member()
    fund(system, uid, "usd", "100")
    tid = f"RACE-{secrets.token_hex(6)}"
    first = {"uid": uid, "currency": "usd", "amount": "30", "rid": RID, "tid": tid}
    second = {**first, "amount": "40"}

    answers = race(system, [("withdraws/new", first if i % 2 else second) for i in range(12)])

    assert all(answer.status in (201, 422) for answer in answers), [a.body for a in answers]
    created = [answer.json() for answer in answers if answer.status == 201]
    refused = [answer.json() for answer in answers if answer.status == 422]
    assert len({(row["id"], row["amount"]) for row in created}) == 1  # the winner's row, to each repeat of it
    assert len(created) == 6 and refused == [TID_TAKEN] * 6  # the other parameters: the tid is taken
    locked = Decimal(created[0]["amount"]) + Decimal(created[0]["fee"])
    assert balance(system, uid, "usd") == {"uid": uid, "balance": str(Decimal("100") - locked), "locked": str(locked)}
    assert system.sql("SELECT count(*) FROM withdraws WHERE upper(tid) = upper(%s)", (tid,)) == [(1,)]
    # created, then submitted: two events of the one row, none of a rolled-back one
    assert system.sql("SELECT count(*) FROM events WHERE record_type = 'withdraw' AND record_id = %s",
                      (created[0]["id"],)) == [(2,)]
    system.check_ledger()


def test_withdraws_racing_for_one_balance_take_exactly_what_it_holds(system):
    uid = system.new_member()
    fund(system, uid, "usd", "100")

    answers = race(system, [("withdraws/new", {"uid": uid, "currency": "usd", "amount": "30", "rid": RID})
                            for _ in range(10)])

    assert sorted(answer.status for answer in answers) == [201] * 3 + [422] * 7, [a.body for a in answers]
    assert [answer.json() for answer in answers if answer.status == 422] == [INSUFFICIENT] * 7
    assert balance(system, uid, "usd") == {"uid": uid, "balance": "10.0", "locked": "90.0"}
    system.check_ledger()


def test_one_accepted_deposit_repeated_at_once_loads_the_money_once(system):
    uid = system.new_member()
    data = {"uid": uid.lower(), "currency": "usd", "amount": "12.3456789", "state": "accepted",
            "tid": f"RACE-{secrets.token_hex(6)}"}

    answers = race(system, [("deposits/new", data)] * 8)

    assert {answer.status for answer in answers} == {201}, [a.body for a in answers]
    assert len({answer.body for answer in answers}) == 1
    deposit = answers[0].json()
    assert (deposit["uid"], deposit["state"], deposit["amount"]) == (uid, "accepted", "12.3456789")
    assert balance(system, uid, "usd") == {"uid": uid, "balance": "12.3456789", "locked": "0.0"}
    system.check_ledger()
