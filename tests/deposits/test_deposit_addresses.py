"""Deposit addresses (domain.md §14.2, route 4.22 at the service level; scenarios D1–D3)."""

import threading

import pytest
from django.db import connection, connections

from deposits import services
from deposits.models import DepositAddressSequence, PaymentAddress
from peatio_mgmt.errors import BusinessRuleError, RecordNotFound
from tests.anvil import TEST_XPUB, XPUB_ADDRESSES
from tests.factories import CoinFactory, EtherFactory, MemberFactory
from tests.withdraws.fake_bitcoind import FakeBitcoind
from withdraws.gateways import GatewayError

# No node is needed to derive from an xpub: these currencies never call theirs.
OFFLINE_ETH = {"rpc_url": "http://127.0.0.1:9/", "chain_id": 31337, "deposit_xpub": TEST_XPUB}


@pytest.fixture
def eth_offline(db):
    return EtherFactory(wallet_settings=OFFLINE_ETH)


def test_first_address_is_index_0_and_every_later_call_answers_it(eth_offline):
    MemberFactory(uid="U487205863")
    first = services.deposit_address_create(uid="U487205863", currency=eth_offline)
    again = services.deposit_address_create(uid="u487205863", currency=eth_offline)
    assert first.address == XPUB_ADDRESSES[0] and first.derivation_index == 0
    assert again.pk == first.pk and PaymentAddress.objects.count() == 1
    assert DepositAddressSequence.objects.get(currency=eth_offline).next_index == 1


def test_next_member_gets_the_next_index(eth_offline):
    MemberFactory(uid="U487205863")
    MemberFactory(uid="U117340922")
    services.deposit_address_create(uid="U487205863", currency=eth_offline)
    bob = services.deposit_address_create(uid="U117340922", currency=eth_offline)
    assert (bob.address, bob.derivation_index) == (XPUB_ADDRESSES[1], 1)


def test_route_answers_the_members_one_address_as_the_entity(api, eth_offline):
    alice = MemberFactory(uid="U487205863")

    first = api.post("deposit_address/new", {"uid": "U487205863", "currency": "eth", "blockchain_key": "eth-mainnet"})
    again = api.post("deposit_address/new", {"uid": "u487205863", "currency": "ETH"})

    assert first.status_code == again.status_code == 201
    body = first.json()
    assert body == {"uid": alice.uid, "currency": "eth", "address": XPUB_ADDRESSES[0], "created_at": body["created_at"]}
    assert body["created_at"].endswith("Z") and again.json() == body


def test_route_input_rules_in_the_contracts_order(api, eth_offline, usd):
    def error(data):
        answer = api.post("deposit_address/new", data)
        assert answer.status_code == 422
        return answer.json()["error"]

    assert error({}) == "uid is missing, currency is missing"
    assert error({"uid": "U487205863", "currency": "usd"}) == "currency does not have a valid value"
    assert error({"uid": ["x"], "currency": "xyz"}) == "uid is invalid, currency does not have a valid value"


def test_route_refusals(api, db):
    MemberFactory(uid="U487205863")
    unknown = api.post("deposit_address/new", {"uid": "U000000000", "currency": EtherFactory(wallet_settings=OFFLINE_ETH).id})
    disabled = api.post("deposit_address/new", {"uid": "U487205863", "currency": CoinFactory(id="ltc", enabled=False).id})
    node_down = api.post("deposit_address/new", {"uid": "U487205863", "currency": CoinFactory(
        id="bch", wallet_gateway="bitcoind", wallet_settings={"rpc_url": "http://127.0.0.1:9/"}).id})

    assert (unknown.status_code, unknown.json()) == (404, {"error": "Couldn't find record."})
    assert (disabled.status_code, disabled.json()) == (422, {"errors": ["Currency is disabled"]})
    assert (node_down.status_code, node_down.json()) == (503, {"error": "Service unavailable."})
    assert PaymentAddress.objects.count() == 0


def test_business_errors(db):
    MemberFactory(uid="U487205863")
    with pytest.raises(RecordNotFound):
        services.deposit_address_create(uid="U000000000", currency=EtherFactory(wallet_settings=OFFLINE_ETH))
    disabled = CoinFactory(id="ltc", enabled=False)
    with pytest.raises(BusinessRuleError, match="^Currency is disabled$"):
        services.deposit_address_create(uid="U487205863", currency=disabled)
    manual = CoinFactory(id="xrp", wallet_gateway="manual")
    with pytest.raises(BusinessRuleError, match="^Currency does not support deposit addresses$"):
        services.deposit_address_create(uid="U487205863", currency=manual)
    no_xpub = EtherFactory(id="etc", wallet_settings={"rpc_url": "http://127.0.0.1:9/", "chain_id": 61})
    with pytest.raises(BusinessRuleError, match="^Currency does not support deposit addresses$"):
        services.deposit_address_create(uid="U487205863", currency=no_xpub)
    assert PaymentAddress.objects.count() == 0


def test_simulated_addresses_are_deterministic(db):
    member = MemberFactory(uid="U487205863")
    btc = CoinFactory()
    sim_eth = CoinFactory(id="seth", address_format="ethereum")
    sim_none = CoinFactory(id="sim", address_format=None)
    address = services.deposit_address_create(uid=member.uid, currency=btc).address
    assert address.startswith("bcrt1q")
    from withdraws.addresses import is_valid_address

    assert is_valid_address("bitcoin", address)
    assert is_valid_address("ethereum", services.deposit_address_create(uid=member.uid, currency=sim_eth).address)
    assert services.deposit_address_create(uid=member.uid, currency=sim_none).address == "sim-sim-u487205863"


def test_bitcoind_getnewaddress_and_down_node_writes_nothing(db):
    member = MemberFactory()
    with FakeBitcoind() as node:
        btc = CoinFactory(wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url})
        address = services.deposit_address_create(uid=member.uid, currency=btc)
        assert address.address == node.addresses[0] and address.derivation_index is None
        assert node.new_address_calls == [(member.uid, "bech32")]
    other = MemberFactory()
    with pytest.raises(GatewayError):
        services.deposit_address_create(uid=other.uid, currency=btc)  # the node is gone
    assert PaymentAddress.objects.filter(member=other).count() == 0


def test_addresses_are_append_only(eth_offline):
    from django.db import IntegrityError, transaction

    member = MemberFactory()
    address = services.deposit_address_create(uid=member.uid, currency=eth_offline)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentAddress.objects.filter(pk=address.pk).update(address=XPUB_ADDRESSES[2])
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentAddress.objects.filter(pk=address.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_one_address_per_member_and_gap_free_indexes():
    eth = EtherFactory(wallet_settings=OFFLINE_ETH)
    one = MemberFactory()
    members = [MemberFactory() for _ in range(20)]
    results, errors = [], []

    def create(uid):
        try:
            results.append(services.deposit_address_create(uid=uid, currency=eth).pk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    for batch in ([one.uid] * 20, [m.uid for m in members]):
        threads = [threading.Thread(target=create, args=(uid,)) for uid in batch]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert PaymentAddress.objects.filter(member=one).count() == 1
    indexes = sorted(PaymentAddress.objects.values_list("derivation_index", flat=True))
    assert indexes == list(range(21))
    from ledger.books import books_check

    assert books_check().breaches == []
    connection.close()
