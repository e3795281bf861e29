"""Coin deposits through the management API over HTTP (scenarios D2, D3 and D15): the deposit address route under
concurrency and without its scope, and the deposit routes interleaved with scanning on anvil."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from deposits import services
from deposits.models import Deposit, DepositAddressSequence, PaymentAddress
from deposits.models import DepositState as S
from ledger.models import Account
from tests.anvil import TEST_XPUB, WEI, XPUB_ADDRESSES
from tests.api_client import config_document, install_config
from tests.factories import CurrencyFactory, EtherFactory, MemberFactory
from withdraws.gateways.ethereum import derive_address

OFFLINE_ETH = {"rpc_url": "http://127.0.0.1:9/", "chain_id": 31337, "deposit_xpub": TEST_XPUB}


def in_parallel(count, target):
    """Run target(i) for i in 0..count-1 at once (a barrier), each thread on its own database connection."""
    results, barrier = [None] * count, threading.Barrier(count)

    def work(i):
        try:
            barrier.wait()
            results[i] = target(i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- D3: 4.22 over HTTP, concurrent ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_d3_twenty_parallel_requests_for_one_member_answer_one_address(api):
    EtherFactory(wallet_settings=OFFLINE_ETH)
    member = MemberFactory()
    responses = in_parallel(20, lambda i: api.post(
        "deposit_address/new", {"uid": member.uid.lower() if i % 2 else member.uid, "currency": "ETH" if i % 3 else "eth"}))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert responses[0].json()["address"] == XPUB_ADDRESSES[0]
    assert PaymentAddress.objects.count() == 1
    assert DepositAddressSequence.objects.get(currency_id="eth").next_index == 1


@pytest.mark.django_db(transaction=True)
def test_d3_twenty_parallel_members_get_indexes_0_to_19(api):
    EtherFactory(wallet_settings=OFFLINE_ETH)
    members = [MemberFactory() for _ in range(20)]
    responses = in_parallel(20, lambda i: api.post("deposit_address/new", {"uid": members[i].uid, "currency": "eth"}))
    assert {r.status_code for r in responses} == {201}
    assert sorted(PaymentAddress.objects.values_list("derivation_index", flat=True)) == list(range(20))
    by_uid = {r.json()["uid"]: r.json()["address"] for r in responses}
    for address in PaymentAddress.objects.select_related("member"):
        assert by_uid[address.member.uid] == address.address == derive_address(TEST_XPUB, address.derivation_index)


# --- D2: the scope not configured -----------------------------------------------------------------------------------


def test_d2_scope_not_configured_is_401_and_writes_nothing(api, db):
    EtherFactory(wallet_settings=OFFLINE_ETH)
    member = MemberFactory()
    document = config_document()
    del document["scopes"]["write_payment_addresses"]
    install_config(document)
    response = api.post("deposit_address/new", {"uid": member.uid, "currency": "eth"})
    assert response.status_code == 401
    assert PaymentAddress.objects.count() == 0 and not DepositAddressSequence.objects.filter(next_index__gt=0).exists()
    install_config(config_document())
    assert api.post("deposit_address/new", {"uid": member.uid, "currency": "eth"}).status_code == 201


# --- D15: the deposit routes interleaved with scanning --------------------------------------------------------------


def tids(response):
    return [d["tid"] for d in response.json()]


def test_d15_coin_and_fiat_deposits_interleave_and_state_put_does_not_find_coin(api, anvil, eth):
    CurrencyFactory()  # usd
    alice, other = MemberFactory(uid="U487205863"), MemberFactory()
    address = api.post("deposit_address/new", {"uid": alice.uid, "currency": "eth"}).json()["address"]
    anvil.mine(2)
    scan = lambda: services.deposit_scan_currency(currency_id="eth")  # noqa: E731
    scan()

    def fiat(tid, uid=alice.uid):
        assert api.post("/deposits/new", {"uid": uid, "currency": "usd", "amount": "10", "tid": tid}).status_code == 201

    fiat("f1")
    anvil.send(address, WEI // 2)
    scan()
    fiat("f2", other.uid)
    anvil.send(address, WEI // 4)
    scan()
    fiat("f3")
    c1, c2 = Deposit.objects.filter(type="coin").order_by("id")
    assert (c1.amount, c2.amount) == (Decimal("0.5"), Decimal("0.25"))

    everything = api.post("/deposits", {})
    assert tids(everything) == ["f3", c2.tid, "f2", c1.tid, "f1"]
    assert everything.pagination == {"Total": "5", "Page": "1", "Per-Page": "100"}
    coin = {d["tid"]: d for d in everything.json() if d["type"] == "coin"}
    assert coin[c1.tid]["blockchain_txid"] == c1.txid and coin[c1.tid]["currency"] == "eth"
    assert tids(api.post("/deposits", {"uid": alice.uid.lower()})) == ["f3", c2.tid, c1.tid, "f1"]
    assert tids(api.post("/deposits", {"currency": "ETH"})) == [c2.tid, c1.tid]
    assert tids(api.post("/deposits", {"state": "submitted", "currency": "eth"})) == [c2.tid, c1.tid]
    page = api.post("/deposits", {"uid": alice.uid, "page": 2, "limit": 2})
    assert tids(page) == [c1.tid, "f1"] and page.pagination == {"Total": "4", "Page": "2", "Per-Page": "2"}
    assert api.post("/deposits/get", {"tid": c1.tid}).json()["tid"] == c1.tid

    # PUT /deposits/state finds fiat deposits only: a coin tid answers 404 and changes nothing.
    for state in ("accepted", "canceled"):
        refused = api.put("/deposits/state", {"tid": c1.tid, "state": state})
        assert (refused.status_code, refused.json()) == (404, {"error": "Couldn't find record."})
    c1.refresh_from_db()
    assert c1.state == S.SUBMITTED and not Account.objects.filter(member=alice, currency_id="eth").exists()

    anvil.mine(12)
    scan()
    assert tids(api.post("/deposits", {"state": "accepted"})) == [c2.tid, c1.tid]
    assert Account.objects.get(member=alice, currency_id="eth").balance == Decimal("0.75")
    assert api.put("/deposits/state", {"tid": c2.tid, "state": "canceled"}).status_code == 404
    assert api.put("/deposits/state", {"tid": "f3", "state": "accepted"}).status_code == 200
