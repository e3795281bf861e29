"""The withdraw workers (domain.md §7): audit, send, retry, confirm — as services and as the tasks beat runs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ledger.models import Currency
from tests.factories import CoinFactory, fund_member
from tests.withdraws.conftest import backdate_send, funds, in_state, postings
from tests.withdraws.fake_bitcoind import FakeBitcoind
from withdraws import services, tasks
from withdraws.gateways import GatewayError
from withdraws.gateways.simulated import SimulatedGateway, simulated_txid
from withdraws.models import Withdraw

pytestmark = pytest.mark.django_db
D = Decimal
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def bob(btc, member):
    fund_member(member, btc, "1")
    return member


def coin_withdraw(member, currency, amount="0.05", rid=ADDRESS, tid=None):
    return services.withdraw_create(uid=member.uid, currency=currency, amount=D(amount), rid=rid, tid=tid,
                                    request_digest="d")


def reload(withdraw):
    withdraw.refresh_from_db()
    return withdraw


# --- audit ----------------------------------------------------------------------------------------------------------


def test_audit_accepts_and_moves_a_quick_coin_withdraw_to_processing(bob, btc):
    quick = coin_withdraw(bob, btc, "0.05")
    slow = coin_withdraw(bob, btc, "0.5")  # over the 24 h limit of 0.1
    assert services.withdraw_audit() == 2
    assert reload(quick).state == "processing" and reload(slow).state == "accepted"
    assert services.withdraw_audit() == 0


def test_audit_rejects_bad_address_disabled_member_or_currency_and_unlocks(bob, btc, usd):
    fund_member(bob, usd, "100")
    bad_address = coin_withdraw(bob, btc, rid="bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr")
    fiat = services.withdraw_create(uid=bob.uid, currency=usd, amount=D(10), rid="IBAN", request_digest="d")
    services.withdraw_audit()
    assert reload(bad_address).state == "rejected" and reload(fiat).state == "accepted"  # fiat waits, never processed
    assert bad_address.error[0]["class"] == "AuditRejected"
    assert bad_address.error[0]["message"] == "Rid is not a valid bitcoin address"
    assert funds(bob, btc) == (D(1), 0)

    other = coin_withdraw(bob, btc)
    bob.state = "disabled"
    bob.save()
    Currency.objects.filter(id="btc").update(enabled=False)
    services.withdraw_audit()
    assert reload(other).state == "rejected"
    assert other.error[0]["message"] == "Member is not enabled; Currency is disabled"


# --- send -------------------------------------------------------------------------------------------------------------


def test_send_stores_the_txid_and_moves_to_confirming(bob, btc):
    withdraw = in_state(coin_withdraw(bob, btc, tid="TIDSEND"), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    assert (reload(withdraw).state, withdraw.txid) == ("confirming", simulated_txid("btc", "TIDSEND"))
    services.withdraw_send(withdraw_id=withdraw.pk)  # a duplicate message: nothing happens
    assert reload(withdraw).state == "confirming"


def test_send_skips_when_the_hot_wallet_is_short(bob, btc, settings):
    settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE = {"btc": "0.04"}
    withdraw = in_state(coin_withdraw(bob, btc), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    assert reload(withdraw).state == "skipped" and funds(bob, btc) == (D("0.95"), D("0.05"))


def test_send_fails_a_blank_rid(bob, btc):
    withdraw = in_state(coin_withdraw(bob, btc), "processing", rid="   ")  # e.g. edited by an operator
    services.withdraw_send(withdraw_id=withdraw.pk)
    assert reload(withdraw).state == "failed" and funds(bob, btc) == (D(1), 0)


def test_send_records_a_gateway_error(bob, btc, monkeypatch):
    def broken(self, *args):
        raise GatewayError("node down")

    monkeypatch.setattr(SimulatedGateway, "send", broken)
    withdraw = in_state(coin_withdraw(bob, btc), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    assert (reload(withdraw).state, withdraw.attempts) == ("errored", 1)
    assert withdraw.error[0]["class"] == "GatewayError" and withdraw.error[0]["message"] == "node down"


def test_manual_gateway_leaves_processing_to_operators(bob, btc):
    Currency.objects.filter(id="btc").update(wallet_gateway="manual")
    withdraw = in_state(coin_withdraw(bob, btc), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    assert reload(withdraw).state == "processing"


def test_crash_between_send_and_save_never_pays_twice(bob, btc, settings, simulated_wallet, monkeypatch):
    settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE = {"btc": "1"}
    withdraw = in_state(coin_withdraw(bob, btc, tid="TIDCRASH"), "processing")
    real_fire = services._fire

    def crash_on_dispatch(row, event, **kwargs):
        if event == "dispatch":
            raise SystemExit("worker killed after the gateway sent")
        return real_fire(row, event, **kwargs)

    monkeypatch.setattr(services, "_fire", crash_on_dispatch)
    with pytest.raises(SystemExit):
        services.withdraw_send(withdraw_id=withdraw.pk)
    assert reload(withdraw).state == "processing" and withdraw.txid is None  # rolled back
    monkeypatch.setattr(services, "_fire", real_fire)
    services.withdraw_send(withdraw_id=withdraw.pk)  # the redelivered task
    assert reload(withdraw).state == "confirming"
    assert SimulatedGateway({}).hot_wallet_balance(btc) == D("1") - withdraw.amount  # sent once


# --- retry ------------------------------------------------------------------------------------------------------------


def errored(bob, btc, attempts, age_seconds, tid=None):
    withdraw = in_state(coin_withdraw(bob, btc, "0.01", tid=tid), "errored", attempts=attempts)
    Withdraw.objects.filter(pk=withdraw.pk).update(updated_at=timezone.now() - timedelta(seconds=age_seconds))
    return withdraw


def test_retry_waits_for_the_backoff(bob, btc):
    assert services.retry_delay(1) == timedelta(seconds=10) and services.retry_delay(3) == timedelta(seconds=40)
    assert services.retry_delay(9) == timedelta(minutes=10)
    young = errored(bob, btc, attempts=2, age_seconds=15)  # needs 20 s
    assert services.withdraw_retry() == 0 and reload(young).state == "errored"
    Withdraw.objects.filter(pk=young.pk).update(updated_at=timezone.now() - timedelta(seconds=21))
    assert services.withdraw_retry() == 1 and reload(young).state == "confirming"


def test_retry_finds_the_transaction_sent_before_the_error(bob, btc, settings, simulated_wallet):
    settings.SIMULATED_GATEWAY_HOT_WALLET_BALANCE = {"btc": "1"}
    withdraw = errored(bob, btc, attempts=5, age_seconds=3600, tid="TIDFOUND")
    SimulatedGateway({}).send(btc, ADDRESS, withdraw.amount, "TIDFOUND")
    services.withdraw_retry()
    assert (reload(withdraw).state, withdraw.txid) == ("confirming", simulated_txid("btc", "TIDFOUND"))
    assert SimulatedGateway({}).hot_wallet_balance(btc) == D(1) - withdraw.amount


def test_retry_fails_after_the_last_attempt_when_nothing_was_sent(bob, btc):
    withdraw = errored(bob, btc, attempts=5, age_seconds=3600)
    services.withdraw_retry()
    assert reload(withdraw).state == "failed" and funds(bob, btc) == (D(1), 0)


def test_retry_never_fails_a_withdraw_that_has_a_txid(bob, btc):
    withdraw = errored(bob, btc, attempts=5, age_seconds=3600)
    Withdraw.objects.filter(pk=withdraw.pk).update(txid="00" * 32)  # an operator recorded a transaction
    services.withdraw_retry()
    assert reload(withdraw).state == "errored" and funds(bob, btc) == (D("0.99"), D("0.01"))


def test_retry_leaves_it_errored_when_the_gateway_cannot_tell(bob, btc, monkeypatch):
    from withdraws.gateways import UNKNOWN

    monkeypatch.setattr(SimulatedGateway, "find_transaction", lambda self, c, r: UNKNOWN)
    withdraw = errored(bob, btc, attempts=5, age_seconds=3600)
    services.withdraw_retry()
    assert reload(withdraw).state == "errored"


# --- confirm ---------------------------------------------------------------------------------------------------------


def test_confirm_counts_then_succeeds_at_min_confirmations(bob, btc, simulated_wallet):
    withdraw = in_state(coin_withdraw(bob, btc, tid="TIDCONF"), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    backdate_send(simulated_wallet, "btc", "TIDCONF", 3)
    services.withdraw_confirm()
    assert (reload(withdraw).state, withdraw.confirmations) == ("confirming", 3)
    backdate_send(simulated_wallet, "btc", "TIDCONF", 3)
    services.withdraw_confirm()
    assert (reload(withdraw).state, withdraw.confirmations) == ("succeed", 6)
    assert funds(bob, btc) == (D("0.95"), 0)
    assert [p[:3] for p in postings(withdraw)[2:]] == [(212, D("0.05"), 0), (302, 0, D("0.0001")), (102, D("0.0499"), 0)]


def test_confirm_keeps_confirming_a_transaction_the_gateway_does_not_know(bob, btc):
    # Not known at the moment is no answer: failing it would refund coins that may have left (pays twice).
    withdraw = in_state(coin_withdraw(bob, btc), "confirming", txid="00" * 32)
    services.withdraw_confirm()
    assert reload(withdraw).state == "confirming" and funds(bob, btc) == (D("0.95"), D("0.05"))


def test_confirm_fails_a_transaction_the_gateway_reports_conflicted(bob, btc, simulated_wallet):
    withdraw = in_state(coin_withdraw(bob, btc, tid="TIDCONFLICT"), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    simulated_wallet.execute("UPDATE simulated_wallet_sends SET conflicted = true WHERE reference = 'TIDCONFLICT'")
    services.withdraw_confirm()
    assert reload(withdraw).state == "failed" and funds(bob, btc) == (D(1), 0)


def test_simulated_sends_survive_a_redis_restart(bob, btc, simulated_wallet):
    """The wallet is not in the broker's Redis: a Redis that comes back empty changes nothing."""
    import redis
    from django.conf import settings

    withdraw = in_state(coin_withdraw(bob, btc, tid="TIDREDIS"), "processing")
    services.withdraw_send(withdraw_id=withdraw.pk)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # what a restart without persistence leaves
    backdate_send(simulated_wallet, "btc", "TIDREDIS", 6)
    services.withdraw_confirm()
    assert (reload(withdraw).state, withdraw.confirmations) == ("succeed", 6)
    assert SimulatedGateway({}).find_transaction(btc, "TIDREDIS") == withdraw.txid


def test_confirm_leaves_manual_gateway_withdraws_to_operators(bob, btc):
    Currency.objects.filter(id="btc").update(wallet_gateway="manual")
    withdraw = in_state(coin_withdraw(bob, btc), "confirming", txid="00" * 32)
    assert services.withdraw_confirm() == 0 and reload(withdraw).state == "confirming"


# --- the whole walk ---------------------------------------------------------------------------------------------------


def test_tasks_in_beat_order_walk_a_quick_coin_withdraw_to_succeed(api, bob, btc, simulated_wallet):
    response = api.post("/withdraws/new", {"uid": bob.uid, "currency": "btc", "amount": "0.05", "rid": ADDRESS})
    tid = response.json()["tid"]
    withdraw = Withdraw.objects.get(tid=tid)
    tasks.audit_withdraws()
    assert reload(withdraw).state == "processing"
    tasks.send_withdraw(withdraw.pk)  # queued on commit by the audit
    assert reload(withdraw).state == "confirming"
    tasks.confirm_withdraws()
    assert reload(withdraw).state == "confirming"
    backdate_send(simulated_wallet, "btc", tid, 6)
    tasks.retry_withdraws()
    tasks.confirm_withdraws()
    body = api.post("/withdraws/get", {"tid": tid}).json()
    assert (body["state"], body["blockchain_txid"]) == ("succeed", simulated_txid("btc", tid))
    assert funds(bob, btc) == (D("0.95"), 0)


def test_a_coin_withdraw_through_bitcoind(bob, member):
    with FakeBitcoind(balance="2") as node:
        coin = CoinFactory(id="tbtc", wallet_gateway="bitcoind", wallet_settings={"rpc_url": node.url})
        fund_member(member, coin, "1")
        withdraw = in_state(coin_withdraw(member, coin, tid="TIDNODE"), "processing")
        services.withdraw_send(withdraw_id=withdraw.pk)
        assert reload(withdraw).state == "confirming" and node.sent[0]["comment"] == "TIDNODE"
        node.confirmations[withdraw.txid] = 6
        services.withdraw_confirm()
        assert reload(withdraw).state == "succeed"


def test_retry_queues_again_the_send_of_a_coin_withdraw_stuck_in_processing(bob, btc, monkeypatch):
    queued = []
    monkeypatch.setattr(services, "queue_send_on_commit", queued.append)
    withdraw = in_state(coin_withdraw(bob, btc), "processing")
    Withdraw.objects.filter(pk=withdraw.pk).update(updated_at=timezone.now() - timedelta(seconds=60))
    services.withdraw_retry()
    assert queued == []  # a send may still be on its way

    Withdraw.objects.filter(pk=withdraw.pk).update(updated_at=timezone.now() - services.stale_send_after())
    services.withdraw_retry()
    services.withdraw_retry()  # its updated_at moved: not queued twice in a row
    assert queued == [withdraw.pk]
    services.withdraw_send(withdraw_id=withdraw.pk)  # what the queued task does: the coins are sent once
    assert reload(withdraw).state == "confirming"
