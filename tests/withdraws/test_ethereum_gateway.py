"""The ethereum gateway on a real anvil node (domain.md §15.5–15.7; scenarios E1, E4–E12, E14, E15).

Workers are driven through their services; the broadcast queued on commit is run by hand where a test needs it
(tests/faults/test_ethereum_worker_killed.py runs real workers)."""

import logging
import os
from decimal import Decimal

import pytest
from django.test import override_settings

from deposits import services as deposit_services
from tests.anvil import DEV_KEYS, HOT_ADDRESS, HOT_KEY, WEI, write_hot_key
from tests.factories import MemberFactory, fund_member
from tests.withdraws.conftest import funds, postings
from withdraws import services
from withdraws.gateways import FAILED, gateway_for
from withdraws.gateways.ethereum import amount_to_wei, ethereum_transaction_broadcast, wei_to_amount
from withdraws.models import EthereumHotWallet, EthereumTransaction, Withdraw
from withdraws.models import WithdrawState as S

RECIPIENT = DEV_KEYS[9][0]


@pytest.fixture
def bob(eth):
    member = MemberFactory(uid="U117340922")
    fund_member(member, eth, "10")
    return member


def processing(member, currency, amount="0.05", rid=RECIPIENT) -> Withdraw:
    withdraw = services.withdraw_create(uid=member.uid, currency=currency, amount=Decimal(amount), rid=rid,
                                        request_digest="d")
    services.withdraw_accept(withdraw_id=withdraw.pk)
    services.withdraw_process(withdraw_id=withdraw.pk)
    return withdraw


def send(withdraw) -> Withdraw:
    services.withdraw_send(withdraw_id=withdraw.pk)
    withdraw.refresh_from_db()
    return withdraw


def broadcast(withdraw) -> str:
    return ethereum_transaction_broadcast(transaction_id=EthereumTransaction.objects.get(withdraw=withdraw).pk)


def test_importing_the_gateway_keeps_the_recursion_limit():
    import subprocess
    import sys

    code = ("import sys; before = sys.getrecursionlimit(); import django, os; "
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'peatio_mgmt.settings.base'); django.setup(); "
            "import withdraws.gateways.ethereum; assert sys.getrecursionlimit() == before, sys.getrecursionlimit()")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PEATIO_DEV_DEFAULTS": "1"})


def test_units_convert_exactly():
    assert wei_to_amount(WEI + 1) == Decimal("1.000000000000000001")
    assert amount_to_wei(Decimal("0.1234567890123456")) == 123456789012345600
    from withdraws.gateways import GatewayError

    with pytest.raises(GatewayError):
        amount_to_wei(Decimal("1e-19"))


def test_end_to_end_paid_once_with_the_signed_hash(anvil, eth, bob):
    eth.min_confirmations = 3
    eth.save()
    before = anvil.balance(RECIPIENT)
    withdraw = send(processing(bob, eth, "0.1234567890123456"))
    row = EthereumTransaction.objects.get(withdraw=withdraw)
    assert withdraw.state == S.CONFIRMING and withdraw.txid == row.hash and row.nonce == 0
    assert anvil.rpc("eth_getTransactionByHash", row.hash) is None  # nothing leaves before the broadcast
    assert broadcast(withdraw) == "broadcast"
    receipt = anvil.receipt(row.hash)
    tx = anvil.rpc("eth_getTransactionByHash", row.hash)
    assert int(tx["value"], 16) == 123456789012345600 and anvil.balance(RECIPIENT) - before == 123456789012345600
    assert EthereumHotWallet.objects.get().next_nonce == 1 and anvil.nonce(HOT_ADDRESS) == 1
    services.withdraw_confirm()
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING
    anvil.mine(2)
    services.withdraw_confirm()
    withdraw.refresh_from_db()
    row.refresh_from_db()
    assert withdraw.state == S.SUCCEED and row.block_number == int(receipt["blockNumber"], 16) and row.gas_used == 21000
    assert funds(bob, eth) == (Decimal("9.8765432109876544"), Decimal(0))
    assert postings(withdraw)[-2:] == [(212, Decimal("0.1234567890123456"), 0, bob.pk),
                                       (102, Decimal("0.1234567890123456"), 0, None)]


def test_send_again_answers_the_same_hash(anvil, eth, bob):
    withdraw = send(processing(bob, eth))
    gateway = gateway_for(eth)
    assert gateway.send(eth, RECIPIENT, withdraw.amount, withdraw.tid) == withdraw.txid
    assert gateway.find_transaction(eth, withdraw.tid) == withdraw.txid
    services.withdraw_send(withdraw_id=withdraw.pk)  # not in processing: nothing
    assert EthereumTransaction.objects.count() == 1
    broadcast(withdraw)
    assert broadcast(withdraw) == "broadcast"  # "nonce too low" for our own mined transaction: the node has it
    assert anvil.nonce(HOT_ADDRESS) == 1


def test_dropped_transaction_is_broadcast_again_by_the_confirm_pass(anvil, eth, bob):
    eth.min_confirmations = 1
    eth.save()
    anvil.rpc("evm_setAutomine", False)
    withdraw = send(processing(bob, eth))
    broadcast(withdraw)
    anvil.rpc("anvil_dropTransaction", withdraw.txid)
    assert anvil.rpc("eth_getTransactionByHash", withdraw.txid) is None
    services.withdraw_confirm()  # unknown to the node: broadcast again, still confirming
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING
    assert EthereumTransaction.objects.get().broadcasts == 2
    anvil.rpc("evm_mine")
    services.withdraw_confirm()
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.SUCCEED


def test_nonce_taken_by_another_transaction_fails_and_the_next_withdraw_pays(anvil, eth, bob):
    eth.min_confirmations = 1
    eth.save()
    withdraw = send(processing(bob, eth))  # signed with nonce 0, never broadcast
    from withdraws.gateways.ethereum import Account

    other = Account.sign_transaction({"chainId": 31337, "nonce": 0, "to": RECIPIENT, "value": 1, "gas": 21000,
                                      "gasPrice": 10**10}, HOT_KEY)
    anvil.rpc("eth_sendRawTransaction", "0x" + bytes(other.raw_transaction).hex())
    services.withdraw_confirm()
    withdraw.refresh_from_db()
    assert withdraw.state == S.FAILED and funds(bob, eth) == (Decimal(10), Decimal(0))
    second = send(processing(bob, eth))
    assert EthereumTransaction.objects.get(withdraw=second).nonce == 1
    broadcast(second)
    anvil.receipt(second.txid)
    services.withdraw_confirm()
    assert Withdraw.objects.get(pk=second.pk).state == S.SUCCEED


def test_reverted_transaction_fails_and_records_the_gas(anvil, eth, bob):
    anvil.rpc("evm_setAutomine", False)
    withdraw = send(processing(bob, eth))
    broadcast(withdraw)
    anvil.rpc("anvil_setCode", RECIPIENT, "0x60006000fd")
    anvil.rpc("evm_mine")
    services.withdraw_confirm()
    withdraw.refresh_from_db()
    assert withdraw.state == S.FAILED and funds(bob, eth) == (Decimal(10), Decimal(0))
    assert EthereumTransaction.objects.get().gas_used == 21000


@override_settings(WITHDRAW_MAX_ATTEMPTS=2)
def test_contract_recipient_errs_then_fails_without_signing(anvil, eth, bob):
    anvil.rpc("anvil_setCode", RECIPIENT, "0x60006000fd")
    withdraw = send(processing(bob, eth))
    assert withdraw.state == S.ERRORED and "Gas estimate failed" in withdraw.error[-1]["message"]
    from datetime import timedelta

    from django.utils import timezone

    for _ in range(3):
        services.withdraw_retry(now=timezone.now() + timedelta(hours=1))
    withdraw.refresh_from_db()
    assert withdraw.state == S.FAILED and EthereumTransaction.objects.count() == 0
    assert funds(bob, eth) == (Decimal(10), Decimal(0))


def test_node_down_while_sending_errs_and_the_retry_sends(anvil, eth, bob, eth_settings):
    eth.wallet_settings = {**eth_settings, "rpc_url": "http://127.0.0.1:9/"}
    eth.save()
    withdraw = send(processing(bob, eth))
    assert withdraw.state == S.ERRORED and EthereumTransaction.objects.count() == 0
    eth.wallet_settings = eth_settings
    eth.save()
    from datetime import timedelta

    from django.utils import timezone

    services.withdraw_retry(now=timezone.now() + timedelta(hours=1))
    withdraw.refresh_from_db()
    assert withdraw.state == S.CONFIRMING
    broadcast(withdraw)
    anvil.receipt(withdraw.txid)


def test_wrong_chain_errs_and_signs_nothing(anvil, eth, bob, eth_settings):
    eth.wallet_settings = {**eth_settings, "chain_id": 1}
    eth.save()
    withdraw = send(processing(bob, eth))
    assert withdraw.state == S.ERRORED
    assert withdraw.error[-1]["message"] == "Chain id mismatch: node 31337, settings 1"
    assert EthereumTransaction.objects.count() == 0


def test_short_hot_wallet_or_fee_above_cap_skips(anvil, eth, bob, eth_settings):
    anvil.rpc("anvil_setBalance", HOT_ADDRESS, hex(10**15))
    withdraw = send(processing(bob, eth))
    assert withdraw.state == S.SKIPPED
    anvil.rpc("anvil_setBalance", HOT_ADDRESS, hex(100 * WEI))
    eth.wallet_settings = {**eth_settings, "max_fee_cap_wei": 1}
    eth.save()
    services.withdraw_process(withdraw_id=withdraw.pk)
    withdraw = send(withdraw)
    assert withdraw.state == S.SKIPPED and withdraw.error[-1]["class"] == "SendDeferred"
    assert withdraw.error[-1]["message"].startswith("Fee ") and " above cap 1" in withdraw.error[-1]["message"]
    assert EthereumTransaction.objects.count() == 0


def test_key_file_readable_by_others_or_of_another_address_errs_without_leaking(anvil, eth, bob, eth_settings,
                                                                              tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    loose = tmp_path / "loose"
    loose.mkdir()
    eth.wallet_settings = {**eth_settings, "hot_wallet_key_file": write_hot_key(loose, mode=0o644)}
    eth.save()
    first = send(processing(bob, eth))
    assert first.state == S.ERRORED and "may be read by group or others" in first.error[-1]["message"]
    other = tmp_path / "other"
    other.mkdir()
    eth.wallet_settings = {**eth_settings, "hot_wallet_key_file": write_hot_key(other, key=DEV_KEYS[1][1])}
    eth.save()
    second = send(processing(bob, eth))
    assert second.state == S.ERRORED and "is not the key of" in second.error[-1]["message"]
    for key in (HOT_KEY, DEV_KEYS[1][1]):
        assert key[2:] not in caplog.text and key[2:] not in str(first.error) + str(second.error)
    assert EthereumTransaction.objects.count() == 0


def test_unknown_hash_is_never_failed(anvil, eth, bob):
    """A confirming withdraw whose hash the node does not know (an operator's txid, no signed row) stays confirming."""
    withdraw = processing(bob, eth)
    services.withdraw_dispatch(withdraw_id=withdraw.pk, txid="0x" + "ab" * 32)
    assert gateway_for(eth).confirmations(eth, "0x" + "ab" * 32) == 0
    services.withdraw_confirm()
    assert Withdraw.objects.get(pk=withdraw.pk).state == S.CONFIRMING
    assert gateway_for(eth).confirmations(eth, "0x" + "ab" * 32) is not FAILED


def test_deposit_and_withdraw_on_one_node(anvil, eth, bob):
    eth.min_confirmations = 1
    eth.save()
    deposit_services.deposit_scan_currency(currency_id=eth.pk)
    address = deposit_services.deposit_address_create(uid=bob.uid, currency=eth).address
    anvil.send(address, WEI)
    for amount in ("0.01", "0.02"):
        withdraw = send(processing(bob, eth, amount))
        broadcast(withdraw)
        anvil.receipt(withdraw.txid)
    deposit_services.deposit_scan_currency(currency_id=eth.pk)
    services.withdraw_confirm()
    assert list(Withdraw.objects.values_list("state", flat=True)) == [S.SUCCEED, S.SUCCEED]
    assert sorted(EthereumTransaction.objects.values_list("nonce", flat=True)) == [0, 1] == \
        list(range(anvil.nonce(HOT_ADDRESS)))
    assert funds(bob, eth) == (Decimal("10.97"), Decimal(0))
    assert os.path.exists(eth.wallet_settings["hot_wallet_key_file"])


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_sends_take_consecutive_nonces_and_each_pays_once(anvil, eth, bob):
    """E13: 20 withdraws sent at once (each thread its own connection): the hot wallet's row lock hands out the
    nonces 0..19 without gap or repeat; every transaction is mined once and every withdraw succeeds."""
    import threading

    from django.db import connections

    from peatio_mgmt.celery import app

    eth.min_confirmations = 1
    eth.save()
    before = anvil.balance(RECIPIENT)
    withdraws = [processing(bob, eth, f"0.0{i % 9 + 1}") for i in range(20)]
    barrier, errors = threading.Barrier(20), []

    def send_one(withdraw):
        try:
            barrier.wait()
            services.withdraw_send(withdraw_id=withdraw.pk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send_one, args=(w,)) for w in withdraws]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.control.purge()  # the broadcasts the sends queued: this test broadcasts itself, no worker runs
    assert errors == []

    rows = list(EthereumTransaction.objects.order_by("nonce"))
    assert [row.nonce for row in rows] == list(range(20))
    assert len({row.hash for row in rows}) == 20 and len({row.withdraw_id for row in rows}) == 20
    assert EthereumHotWallet.objects.get().next_nonce == 20
    for row in rows:
        assert ethereum_transaction_broadcast(transaction_id=row.pk) == "broadcast"
    for row in rows:
        assert int(anvil.receipt(row.hash)["status"], 16) == 1
    services.withdraw_confirm()
    assert set(Withdraw.objects.values_list("state", flat=True)) == {S.SUCCEED}
    assert {w.txid for w in Withdraw.objects.all()} == {row.hash for row in rows}
    total = sum((w.amount for w in Withdraw.objects.all()), Decimal(0))
    assert anvil.balance(RECIPIENT) - before == amount_to_wei(total)
    assert anvil.nonce(HOT_ADDRESS) == 20
    assert funds(bob, eth) == (Decimal(10) - total, Decimal(0))
