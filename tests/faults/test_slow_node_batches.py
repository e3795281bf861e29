"""Fault: the node answers slowly while a batch worker asks it about one withdraw. The confirm and retry workers
hold no row lock while they wait (domain.md §7), so operators and the API act on the other withdraws of the batch
at once; and each withdraw is settled in its own transaction, so one failing does not undo the others."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from tests.faults.conftest import assert_books_clean, sent_withdraw
from tests.withdraws.conftest import funds, in_state
from withdraws import services
from withdraws.gateways import bitcoind
from withdraws.models import Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
SLOW = 2.0


def confirming(member, currency) -> Withdraw:
    """A coin withdraw sent through the node and waiting for confirmations."""
    withdraw = sent_withdraw(member, currency)
    assert withdraw.state == S.CONFIRMING
    return withdraw


def test_an_operator_fails_a_withdraw_at_once_while_the_confirm_worker_waits_on_the_node_for_another(
        node, node_btc, member, monkeypatch):
    first, second = confirming(member, node_btc), confirming(member, node_btc)
    node.confirmations[first.txid] = node.confirmations[second.txid] = 1
    node.faults["gettransaction"] = ("slow", SLOW)
    asking = threading.Event()
    real_confirmations = bitcoind.BitcoindGateway.confirmations

    def confirmations(self, currency, txid):
        asking.set()
        return real_confirmations(self, currency, txid)

    monkeypatch.setattr(bitcoind.BitcoindGateway, "confirmations", confirmations)
    errors = []

    def confirm_worker():
        try:
            services.withdraw_confirm()
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=confirm_worker)
    worker.start()
    assert asking.wait(10)  # the worker is waiting on the node about `first`

    started = time.monotonic()
    services.withdraw_fail(withdraw_id=second.pk)  # an operator's fail of a dropped transaction
    assert time.monotonic() - started < SLOW / 2

    worker.join(30)
    assert not worker.is_alive() and errors == []
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == S.SUCCEED  # the worker's answer about `first` is applied
    assert second.state == S.FAILED  # and its stale answer about `second` is not: it moved meanwhile
    assert funds(member, node_btc) == (D("0.95"), D(0))
    assert_books_clean()


def test_one_withdraw_failing_in_the_confirm_worker_leaves_the_others_of_the_batch_confirmed(
        node, node_btc, member, monkeypatch):
    broken, fine = confirming(member, node_btc), confirming(member, node_btc)
    node.confirmations[broken.txid] = node.confirmations[fine.txid] = 1
    real_fire = services._fire

    def fire(withdraw, event, **kwargs):
        if withdraw.pk == broken.pk:
            raise RuntimeError("disk full")
        real_fire(withdraw, event, **kwargs)

    monkeypatch.setattr(services, "_fire", fire)

    with pytest.raises(RuntimeError, match="disk full"):  # the task still reports the failure
        services.withdraw_confirm()

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.state, fine.state) == (S.CONFIRMING, S.SUCCEED)
    assert funds(member, node_btc) == (D("0.9"), D("0.05"))
    assert_books_clean()


def test_one_withdraw_failing_in_the_retry_worker_leaves_the_others_of_the_batch_retried(
        node, node_btc, member, monkeypatch):
    broken, fine = confirming(member, node_btc), confirming(member, node_btc)
    for withdraw in (broken, fine):
        in_state(withdraw, S.ERRORED, attempts=1)
    real_fire = services._fire

    def fire(withdraw, event, **kwargs):
        if withdraw.pk == broken.pk:
            raise RuntimeError("disk full")
        real_fire(withdraw, event, **kwargs)

    monkeypatch.setattr(services, "_fire", fire)
    later = Withdraw.objects.get(pk=fine.pk).updated_at + services.retry_delay(1) * 2

    with pytest.raises(RuntimeError, match="disk full"):
        services.withdraw_retry(now=later)

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.state, fine.state) == (S.ERRORED, S.CONFIRMING)  # fine: found by its tid on the node
    assert_books_clean()
