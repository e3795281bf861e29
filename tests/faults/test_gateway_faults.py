"""Fault: the wallet node times out or answers garbage (HTML from a proxy, broken JSON, JSON that is not an
answer, a JSON-RPC error). Send records the error and goes errored (attempts + 1); retry follows domain.md §7.3:
after the backoff, find the transaction by tid, else send again, and after WITHDRAW_MAX_ATTEMPTS fail (funds
unlocked once) only when the node answered that there is no such transaction — never when it cannot tell."""

from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.models import Operation
from tests.faults.conftest import GARBAGE, assert_books_clean, sent_withdraw
from tests.withdraws.conftest import funds
from withdraws import services
from withdraws.gateways import UNKNOWN, bitcoind
from withdraws.models import Withdraw
from withdraws.models import WithdrawState as S

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setattr(bitcoind, "TIMEOUT_SECONDS", 0.3)




def retry_after_backoff(withdraw: Withdraw) -> Withdraw:
    withdraw.refresh_from_db()
    services.withdraw_retry(now=withdraw.updated_at + services.retry_delay(withdraw.attempts) + timedelta(seconds=1))
    withdraw.refresh_from_db()
    return withdraw


def unlocks(withdraw: Withdraw) -> int:
    """How many times the withdraw's funds were unlocked: member-side postings back to the main account."""
    return Operation.objects.filter(reference_type="withdraw", reference_id=withdraw.pk, code__code=212,
                                    debit__gt=0).count()


@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_garbage_answer_to_the_send_errs_the_withdraw(node, node_btc, member, garbage):
    node.faults["sendtoaddress"] = garbage

    withdraw = sent_withdraw(member, node_btc)

    assert withdraw.state == S.ERRORED and withdraw.attempts == 1 and withdraw.txid is None
    (error,) = withdraw.error
    assert error["message"] and error["class"] in ("GatewayError", "RpcError")
    assert funds(member, node_btc) == (D("0.95"), D("0.05"))
    assert_books_clean()


def test_send_timed_out_after_the_node_paid_is_found_by_tid_on_retry(node, node_btc, member):
    node.faults["sendtoaddress"] = ("slow", 1)

    withdraw = sent_withdraw(member, node_btc)

    assert withdraw.state == S.ERRORED and withdraw.attempts == 1
    assert "timed out" in withdraw.error[0]["message"]
    (sent,) = node.sends_of(withdraw.tid)  # the node did pay: only its answer was lost
    node.faults.clear()

    withdraw = retry_after_backoff(withdraw)

    assert withdraw.state == S.CONFIRMING and withdraw.txid == sent["txid"]
    assert node.calls.count("sendtoaddress") == 1
    assert_books_clean()


def test_retry_waits_for_the_backoff_then_sends_again(node, node_btc, member):
    node.faults["sendtoaddress"] = "rpc_error"
    withdraw = sent_withdraw(member, node_btc)
    node.faults.clear()

    services.withdraw_retry(now=withdraw.updated_at + services.retry_delay(1) - timedelta(seconds=1))
    withdraw.refresh_from_db()
    assert withdraw.state == S.ERRORED and node.sent == []

    withdraw = retry_after_backoff(withdraw)
    assert withdraw.state == S.CONFIRMING and [s["txid"] for s in node.sent] == [withdraw.txid]
    assert_books_clean()


def test_after_the_last_attempt_it_fails_once_when_the_node_has_no_such_transaction(node, node_btc, member, settings):
    node.faults["sendtoaddress"] = "html"
    withdraw = sent_withdraw(member, node_btc)
    delays = []
    while withdraw.attempts < settings.WITHDRAW_MAX_ATTEMPTS:
        delays.append(services.retry_delay(withdraw.attempts))
        withdraw = retry_after_backoff(withdraw)
        assert withdraw.state == S.ERRORED
    assert [d.total_seconds() for d in delays] == [10, 20, 40, 80]
    assert len(withdraw.error) == settings.WITHDRAW_MAX_ATTEMPTS
    assert funds(member, node_btc) == (D("0.95"), D("0.05"))

    withdraw = retry_after_backoff(withdraw)  # the node answers: no transaction with this tid

    assert withdraw.state == S.FAILED and withdraw.error[-1]["class"] == "GaveUp"
    assert funds(member, node_btc) == (D("1"), D("0"))
    assert retry_after_backoff(withdraw).state == S.FAILED
    assert unlocks(withdraw) == 1
    assert node.sent == []
    assert_books_clean()


@pytest.mark.parametrize("fault", ["html", "invalid_json", "not_an_object", "rpc_error", ("slow", 1)])
def test_after_the_last_attempt_it_stays_errored_while_the_node_cannot_tell(node, node_btc, member, settings, fault):
    node.faults["sendtoaddress"] = "rpc_error"
    withdraw = sent_withdraw(member, node_btc)
    Withdraw.objects.filter(pk=withdraw.pk).update(attempts=settings.WITHDRAW_MAX_ATTEMPTS)
    node.faults["listtransactions"] = fault

    withdraw = retry_after_backoff(withdraw)

    assert withdraw.state == S.ERRORED and withdraw.attempts == settings.WITHDRAW_MAX_ATTEMPTS
    assert funds(member, node_btc) == (D("0.95"), D("0.05"))
    assert unlocks(withdraw) == 0
    assert_books_clean()


def test_unreachable_node_leaves_it_errored(node, node_btc, member, settings):
    node.faults["sendtoaddress"] = "rpc_error"
    withdraw = sent_withdraw(member, node_btc)
    Withdraw.objects.filter(pk=withdraw.pk).update(attempts=settings.WITHDRAW_MAX_ATTEMPTS)
    node.server.shutdown()
    node.server.server_close()  # connection refused from now on

    withdraw = retry_after_backoff(withdraw)

    assert withdraw.state == S.ERRORED
    assert funds(member, node_btc) == (D("0.95"), D("0.05"))
    assert_books_clean()


def test_node_silent_about_its_balance_skips_without_sending(node, node_btc, member):
    node.faults["getbalance"] = ("slow", 1)

    withdraw = sent_withdraw(member, node_btc)

    assert withdraw.state == S.SKIPPED and node.sent == []  # §7.2 step 2: balance unknown -> skip
    assert funds(member, node_btc) == (D("0.95"), D("0.05"))
    assert_books_clean()


def test_one_garbled_withdraw_does_not_stop_the_retry_of_the_others(node, node_btc, member, settings):
    node.faults["sendtoaddress"] = "rpc_error"
    stuck = sent_withdraw(member, node_btc)
    other = sent_withdraw(member, node_btc)
    Withdraw.objects.filter(pk=stuck.pk).update(attempts=settings.WITHDRAW_MAX_ATTEMPTS)
    node.faults = {"listtransactions": "not_an_object"}
    later = max(stuck.updated_at, other.updated_at) + services.retry_delay(settings.WITHDRAW_MAX_ATTEMPTS)

    assert services.withdraw_retry(now=later + timedelta(seconds=1)) == 2

    stuck.refresh_from_db()
    other.refresh_from_db()
    assert stuck.state == S.ERRORED and other.state == S.ERRORED and other.attempts == 2
    assert_books_clean()


@pytest.mark.parametrize("page", [{"txid": "ab"}, ["ab"], None])
def test_a_listtransactions_page_that_is_no_list_of_transactions_means_the_node_cannot_tell(node, node_btc, page):
    node.listtransactions = lambda *args: page

    assert bitcoind.BitcoindGateway({"rpc_url": node.url}).find_transaction(node_btc, "TID1") is UNKNOWN
