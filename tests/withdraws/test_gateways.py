"""Wallet gateways (domain.md §7.5): simulated (Redis-backed) and bitcoind (JSON-RPC against a fake server)."""

import hashlib
import socket
from decimal import Decimal

import pytest

from tests.factories import CoinFactory
from tests.support import end_session
from tests.withdraws.conftest import backdate_send
from tests.withdraws.fake_bitcoind import FakeBitcoind
from withdraws.gateways import FAILED, UNKNOWN, GatewayError, gateway_for, simulated
from withdraws.gateways.bitcoind import BitcoindGateway
from withdraws.gateways.manual import ManualGateway
from withdraws.gateways.simulated import SimulatedGateway, simulated_txid

pytestmark = pytest.mark.django_db
D = Decimal


def test_gateway_comes_from_the_currency(btc):
    assert isinstance(gateway_for(btc), SimulatedGateway)
    btc.wallet_gateway = "manual"
    assert isinstance(gateway_for(btc), ManualGateway) and not gateway_for(btc).sends
    btc.wallet_gateway, btc.wallet_settings = "bitcoind", {"rpc_url": "http://127.0.0.1:1/"}
    assert isinstance(gateway_for(btc), BitcoindGateway)


def test_simulated_send_is_deterministic_and_idempotent(btc, settings, simulated_wallet):
    settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE = {"btc": "1"}
    gateway = gateway_for(btc)
    assert gateway.find_transaction(btc, "TID1") is None
    txid = gateway.send(btc, "addr", D("0.3"), "TID1")
    assert txid == hashlib.sha256(b"btc:TID1").hexdigest()
    assert gateway.send(btc, "addr", D("0.3"), "TID1") == txid
    assert gateway.hot_wallet_balance(btc) == D("0.7")
    assert gateway.find_transaction(btc, "TID1") == txid


def test_simulated_confirmations_grow_with_whole_seconds(btc, settings, simulated_wallet):
    gateway = gateway_for(btc)
    txid = gateway.send(btc, "addr", D("0.3"), "TID2")
    assert gateway.confirmations(btc, txid) == 0
    backdate_send(simulated_wallet, "btc", "TID2", 3.5)
    assert gateway.confirmations(btc, txid) == 3
    settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND = 2
    assert gateway.confirmations(btc, txid) == 6
    assert gateway.confirmations(btc, "00" * 32) is UNKNOWN  # never sent through this wallet: no answer
    simulated_wallet.execute("UPDATE simulated_wallet_sends SET conflicted = true")
    assert gateway.confirmations(btc, txid) is FAILED
    assert gateway.hot_wallet_balance(btc) > D("1e15")  # unlimited unless configured


@pytest.fixture
def bitcoind():
    with FakeBitcoind(balance="2.5") as fake:
        yield fake


@pytest.fixture
def node_coin(db, bitcoind):
    return CoinFactory(id="tbtc", wallet_gateway="bitcoind", wallet_settings={"rpc_url": bitcoind.url})


def test_bitcoind_balance_send_find_and_confirmations(node_coin, bitcoind):
    gateway = gateway_for(node_coin)
    assert gateway.hot_wallet_balance(node_coin) == D("2.5")
    assert gateway.find_transaction(node_coin, "TIDX") is None
    txid = gateway.send(node_coin, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", D("0.0499"), "TIDX")
    assert bitcoind.sent == [{"txid": txid, "address": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                              "amount": D("0.0499"), "comment": "TIDX"}]
    assert gateway.send(node_coin, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", D("0.0499"), "TIDX") == txid
    assert len(bitcoind.sent) == 1 and bitcoind.calls.count("sendtoaddress") == 1
    assert gateway.find_transaction(node_coin, "TIDX") == txid
    assert gateway.confirmations(node_coin, txid) == 0
    bitcoind.confirmations[txid] = 7
    assert gateway.confirmations(node_coin, txid) == 7
    bitcoind.confirmations[txid] = -1
    assert gateway.confirmations(node_coin, txid) is FAILED  # conflicted
    assert gateway.confirmations(node_coin, "ee" * 32) is UNKNOWN  # not in the wallet: no answer
    assert set(bitcoind.auth) == {"Basic cnBjdXNlcjpzZWNyZXQ="}  # rpcuser:secret


def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bitcoind_unreachable(db):
    coin = CoinFactory(id="tbtc", wallet_gateway="bitcoind", wallet_settings={"rpc_url": f"http://127.0.0.1:{unused_port()}/"})
    gateway = gateway_for(coin)
    assert gateway.hot_wallet_balance(coin) is None
    assert gateway.find_transaction(coin, "T") is UNKNOWN
    with pytest.raises(GatewayError):
        gateway.send(coin, "addr", D(1), "T")
    with pytest.raises(GatewayError):
        gateway.confirmations(coin, "ab")


@pytest.mark.django_db(transaction=True)
def test_concurrent_simulated_sends_never_overdraw_a_limited_hot_wallet(settings, simulated_wallet):
    import threading

    from tests.withdraws.conftest import sends

    settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE = {"btc": "1"}
    btc = CoinFactory()
    outcomes = []
    barrier = threading.Barrier(8)

    def send(i):
        barrier.wait()
        try:
            outcomes.append(gateway_for(btc).send(btc, "addr", D("0.3"), f"TIDC{i}"))
        except GatewayError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(isinstance(o, str) for o in outcomes) == 3 and len(outcomes) == 8
    assert len(sends(simulated_wallet, "btc")) == 3
    assert gateway_for(btc).hot_wallet_balance(btc) == D("0.1")


def test_the_simulated_wallet_sends_after_its_database_ended_the_idle_connection(btc, simulated_wallet):
    # A PostgreSQL restart ends the wallet's connection while it sits idle; the next send must not fail on it (the
    # withdraw would be errored for a wallet that is up).
    ended = simulated_wallet.info.backend_pid
    end_session(ended)

    txid = SimulatedGateway({}).send(btc, "bcrt1qrestart", Decimal("0.1"), "TID-AFTER-RESTART")

    assert txid == simulated_txid(btc.id, "TID-AFTER-RESTART")
    assert simulated.wallet_connection().info.backend_pid != ended
