"""Deposit detection through the bitcoind gateway (the fake node of tests/withdraws/fake_bitcoind.py) and the
simulated gateway's chain (scenarios D7, D19, and a reorg on bitcoind)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from deposits import services
from deposits.models import Deposit
from deposits.models import DepositState as S
from ledger.models import Account
from tests.factories import CoinFactory, MemberFactory
from tests.withdraws.fake_bitcoind import FakeBitcoind
from withdraws.gateways.simulated import _query


@pytest.fixture
def node():
    with FakeBitcoind() as fake:
        yield fake


@pytest.fixture
def btc(db, node):
    return CoinFactory(wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url}, min_confirmations=2)


def scan(currency):
    return services.deposit_scan_currency(currency_id=currency.pk)


def test_one_transaction_paying_two_members_gives_two_deposits_by_vout_and_coinbase_is_ignored(node, btc):
    alice, bob = MemberFactory(), MemberFactory()
    a = services.deposit_address_create(uid=alice.uid, currency=btc).address
    b = services.deposit_address_create(uid=bob.uid, currency=btc).address
    scan(btc)
    (txid,) = node.mine([(a, "0.5"), ("bcrt1qforeign", "1"), (b, "0.00000001")], coinbase_to=a)
    scan(btc)
    deposits = list(Deposit.objects.order_by("txout"))
    assert [(d.member, d.txid, d.txout, d.amount, d.amount_base_units) for d in deposits] == [
        (alice, txid, 0, Decimal("0.5"), 50_000_000), (bob, txid, 2, Decimal("0.00000001"), 1)]
    node.mine()
    scan(btc)
    assert set(Deposit.objects.values_list("state", flat=True)) == {S.ACCEPTED}
    assert Account.objects.get(member=alice, currency=btc).balance == Decimal("0.5")


def test_reorg_on_bitcoind_orphans_then_the_new_branch_reconfirms(node, btc):
    alice = MemberFactory()
    address = services.deposit_address_create(uid=alice.uid, currency=btc).address
    node.mine()
    scan(btc)
    (txid,) = node.mine([(address, "1")])
    scan(btc)
    node.reorg(1)
    node.mine(salt="b")
    node.mine([(address, "1")], salt="b")
    scan(btc)
    old, new = Deposit.objects.order_by("id")
    assert old.txid == txid and old.orphaned_at is not None and old.confirmations == 0
    assert new.txid != txid and new.orphaned_at is None and new.state == S.SUBMITTED
    node.mine()
    scan(btc)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (S.SUBMITTED, S.ACCEPTED)  # the orphan is never accepted
    assert Account.objects.get(member=alice, currency=btc).balance == Decimal("1")


def forget_simulated_chain(currency_id: str) -> None:
    # The chain is written on the wallet's own connection, outside the test's transaction: cleaned by hand.
    _query("DELETE FROM simulated_chain_transfers WHERE currency = %s RETURNING 1", (currency_id,))
    _query("DELETE FROM simulated_chains WHERE currency = %s RETURNING 1", (currency_id,))


@override_settings(SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND=1000)
def test_simulated_deposit_is_accepted_and_a_repeated_txid_adds_nothing(db, settings):
    forget_simulated_chain("btc")
    btc = CoinFactory(min_confirmations=1)
    alice = MemberFactory()
    address = services.deposit_address_create(uid=alice.uid, currency=btc).address
    scan(btc)
    out = StringIO()
    call_command("simulate_deposit", "btc", address, "0.5", "--txid", "ab" * 32, stdout=out)
    call_command("simulate_deposit", "btc", address, "0.5", "--txid", "ab" * 32, stdout=StringIO())
    assert out.getvalue().strip() == "ab" * 32
    # As the beat does: passes of at most DEPOSIT_SCAN_MAX_BLOCKS blocks until the chain's head (1000 blocks a
    # second here, so a slow machine puts the transfer several passes away).
    for _ in range(200):
        scan(btc)
        if Deposit.objects.filter(state=S.ACCEPTED).exists():
            break
    assert Deposit.objects.get().state == S.ACCEPTED
    assert Account.objects.get(member=alice, currency=btc).balance == Decimal("0.5")
    forget_simulated_chain("btc")
