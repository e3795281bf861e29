"""Scenario D8 (domain.md §14.4 step 4, §14.6): a real Celery worker SIGKILLed inside a block of a scan pass on
anvil. The node (a proxy in front of it) stalls the receipt of the second transfer, so the worker dies with the
first transfer's block committed and the second's transaction open. The block is rolled back; the redelivered
pass redoes it: exactly one deposit per transfer, a continuous cursor, one credit each."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deposits import services
from deposits.models import Deposit, DepositScanBlock, DepositScanCursor
from deposits.models import DepositState as S
from deposits.tasks import scan_currency
from ledger.models import Account, Operation
from tests.anvil import WEI
from tests.factories import MemberFactory
from tests.faults.conftest import assert_books_clean, wait_for
from tests.faults.test_ethereum_worker_killed import HoldingProxy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def proxied_eth(anvil, eth, eth_settings):
    proxy = HoldingProxy(anvil.url)
    eth.wallet_settings = {**eth_settings, "rpc_url": proxy.url}
    eth.min_confirmations = 1
    eth.save()
    yield eth, proxy
    proxy.close()


def test_worker_killed_inside_a_scanned_block_neither_loses_nor_doubles_the_deposit(anvil, proxied_eth, workers):
    eth, proxy = proxied_eth
    anvil.mine(3)
    alice = MemberFactory()
    address = services.deposit_address_create(uid=alice.uid, currency=eth).address
    services.deposit_scan_currency(currency_id=eth.pk)  # the cursor starts at the head
    first_tx = anvil.send(address, WEI // 2)
    second_tx = anvil.send(address, WEI // 4)
    first_block = int(anvil.receipt(first_tx)["blockNumber"], 16)
    second_block = int(anvil.receipt(second_tx)["blockNumber"], 16)
    assert second_block == first_block + 1

    proxy.hold, proxy.hold_param = "eth_getTransactionReceipt", second_tx  # inside block(second_block)
    first = workers.start()
    scan_currency.delay(eth.pk)
    assert proxy.entered.wait(60), first.output()
    first.kill()

    cursor = DepositScanCursor.objects.get(currency=eth)
    assert cursor.height == first_block  # the first block committed, the second rolled back with the worker
    assert not DepositScanBlock.objects.filter(currency=eth, number=second_block).exists()
    assert list(Deposit.objects.values_list("txid", "state")) == [(first_tx, S.SUBMITTED)]  # accept is step 5
    assert_books_clean()

    proxy.hold = proxy.hold_param = None
    second = workers.start()  # the killed pass is redelivered (acknowledged late) and redoes the block
    wait_for(lambda: Deposit.objects.filter(state=S.ACCEPTED).count() == 2, 60, what=second.output())
    services.deposit_scan_currency(currency_id=eth.pk)  # one more pass changes nothing
    second.stop()

    deposits = list(Deposit.objects.order_by("block_number"))
    assert [(d.txid, d.block_number, d.amount, d.state) for d in deposits] == [
        (first_tx, first_block, Decimal("0.5"), S.ACCEPTED), (second_tx, second_block, Decimal("0.25"), S.ACCEPTED)]
    for deposit in deposits:
        assert Operation.objects.filter(reference_type="deposit", reference_id=deposit.pk).count() == 2
    assert Account.objects.get(member=alice, currency=eth).balance == Decimal("0.75")
    cursor.refresh_from_db()
    numbers = list(DepositScanBlock.objects.filter(currency=eth).order_by("number").values_list("number", flat=True))
    assert numbers == list(range(numbers[0], cursor.height + 1)) and cursor.height >= second_block
    assert_books_clean()
