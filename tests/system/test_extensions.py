"""The extensions through the running system (management-api-extensions.md §5–7): the eleven routes over HTTP with
the development configuration, and a poller following /deposits and /liabilities with `from_id` while 20 writer
threads create deposits and transfers — every committed id exactly once, in order."""

from __future__ import annotations

import secrets
import threading
import time

import pytest

from tests.system.conftest import fund

pytestmark = pytest.mark.system

IBAN = "DE89370400440532013000"


def test_the_eleven_routes_answer_over_http(system):
    uid = f"UEXT{secrets.token_hex(4).upper()}"
    member = {"uid": uid, "email": f"{uid.lower()}@example.com", "level": 1, "group": "VIP-1"}
    created = system.post("members", member)
    assert created.status == 201 and created.json()["group"] == "vip-1"
    assert system.post("members", member).json() == created.json()  # a retry
    assert system.post("members/get", {"uid": uid.lower()}).json() == created.json()
    updated = system.put("members/update", {"uid": uid, "state": "pending"})
    assert updated.status == 200 and updated.json()["state"] == "pending"
    assert system.put("members/update", {"uid": uid}).json() == {
        "error": "email, level, state, group are missing, at least one parameter must be provided"}

    fund(system, uid, "usd", "250")
    balances = system.post("accounts/balances", {"currency": "usd", "limit": 10000})
    assert balances.status == 201 and int(balances.headers["Total"]) >= 1
    assert {"uid": uid, "balance": "250.0", "locked": "0.0"} in balances.json()

    currencies = system.post("currencies/list", {})
    assert currencies.status == 201 and "usd" in [c["id"] for c in currencies.json()]
    assert system.post("currencies/get", {"code": "USD"}).json()["code"] == "usd"
    markets = system.post("markets/list", {})
    assert markets.status == 201 and markets.json()
    symbol = markets.json()[0]["symbol"]
    assert system.post("markets/get", {"symbol": symbol.upper()}).json() == markets.json()[0]

    beneficiary = system.post("beneficiaries/new", {"uid": uid, "currency": "usd", "name": "Main bank account",
                                                    "rid": IBAN, "data": {"bic": "COBADEFFXXX", "fee": 1.5}})
    assert beneficiary.status == 201 and beneficiary.json()["data"] == {"bic": "COBADEFFXXX", "fee": 1.5}
    listed = system.post("beneficiaries", {"uid": uid})
    assert (listed.json(), listed.headers["Total"]) == ([beneficiary.json()], "1")
    activated = system.put("beneficiaries/state", {"id": beneficiary.json()["id"], "uid": uid, "state": "active"})
    assert activated.status == 200 and activated.json()["state"] == "active"
    paid = system.post("withdraws/new", {"uid": uid, "currency": "usd", "amount": "100",
                                         "beneficiary_id": beneficiary.json()["id"]})
    assert paid.status == 201 and (paid.json()["rid"], paid.json()["beneficiary_id"]) == (IBAN, beneficiary.json()["id"])


WRITERS = 20
REQUESTS_PER_WRITER = 8


def poll(system, route: str, cursor: int, done: threading.Event) -> tuple[list[int], int]:
    """Follow `route` from `cursor` as §5.3 recommends until the writers are done and a page comes back short."""
    seen, polls = [], 0
    while True:
        finished = done.is_set()  # read before the request: a request after the last commit sees everything
        answer = system.post(route, {"from_id": cursor, "limit": 1000})
        assert answer.status == 201, answer.body
        rows = [row["id"] for row in answer.json()]
        polls += 1
        seen += rows
        if rows:
            cursor = rows[-1]
        if len(rows) < 1000:
            if finished:
                return seen, polls
            time.sleep(0.02)


def test_a_poller_sees_every_committed_deposit_and_posting_once_in_order(system):
    uids = [system.new_member() for _ in range(WRITERS)]
    start = {table: system.sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0] for table in ("deposits", "operations")}
    done, errors = threading.Event(), []

    def write(index: int) -> None:
        try:
            for n in range(REQUESTS_PER_WRITER):
                if n % 2:
                    operation = {"currency": "usd", "amount": "1", "account_src": {"code": 201, "uid": uids[index]},
                                 "account_dst": {"code": 201, "uid": uids[(index + 1) % WRITERS]}}
                    answer = system.post("transfers/new", {"key": secrets.randbits(62), "kind": "member-transfer",
                                                           "operations": [operation]})
                else:
                    answer = system.post("deposits/new", {"uid": uids[index], "currency": "usd", "amount": "10",
                                                          "state": "accepted"})
                assert answer.status == 201, answer.body
        except BaseException as error:  # reported on the main thread
            errors.append(error)

    writers = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    results = {}
    pollers = [threading.Thread(target=lambda r=route, t=table: results.__setitem__(r, poll(system, r, start[t], done)))
               for route, table in (("deposits", "deposits"), ("liabilities", "operations"))]
    for thread in writers + pollers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    for thread in pollers:
        thread.join(60)

    assert errors == []
    deposits = [row[0] for row in system.sql("SELECT id FROM deposits WHERE id > %s ORDER BY id", (start["deposits"],))]
    postings = [row[0] for row in system.sql(
        "SELECT id FROM operations WHERE type = 'liability' AND id > %s ORDER BY id", (start["operations"],))]
    assert len(deposits) >= WRITERS * REQUESTS_PER_WRITER // 2 and len(postings) >= WRITERS * REQUESTS_PER_WRITER
    assert results["deposits"][0] == deposits
    assert results["liabilities"][0] == postings
    assert results["deposits"][1] > 1 and results["liabilities"][1] > 1  # polled while the writers wrote
