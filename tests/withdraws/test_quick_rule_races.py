"""The quick rule (domain.md §6.2) under concurrency: decisions to pay without an operator are serialised per member
and currency, so concurrent `process` calls and overlapping audit runs never pay out more than the limit.

The rule's sum is widened (a short sleep after it) so that, without the lock, every concurrent decision sees the
others' withdraws as not yet under way — the race is then certain instead of likely; the code path is the real one.
"""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from tests.factories import CoinFactory, CurrencyFactory, MemberFactory, fund_member
from withdraws import services
from withdraws.models import Withdraw
from withdraws.states import UNDER_WAY

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "DE89370400440532013000"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
D = Decimal


@pytest.fixture
def slow_quick_rule(monkeypatch):
    real = services.withdraw_is_quick

    def slow(withdraw, **kwargs):
        quick = real(withdraw, **kwargs)
        time.sleep(0.3)
        return quick

    monkeypatch.setattr(services, "withdraw_is_quick", slow)


def run_threads(count, target):
    errors = []
    barrier = threading.Barrier(count)

    def work(i):
        try:
            barrier.wait()
            target(i)
        except Exception as error:  # noqa: BLE001 — reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def paid_without_operator(member, currency) -> Decimal:
    return Withdraw.objects.filter(member=member, currency=currency, state__in=UNDER_WAY).aggregate(
        total=Sum("sum"))["total"] or D(0)


def test_concurrent_process_calls_never_pay_more_than_the_24h_limit(api, slow_quick_rule):
    usd = CurrencyFactory()  # 24 h limit 1000
    member = MemberFactory()
    fund_member(member, usd, "5000")
    tids = [f"race-{i}" for i in range(6)]
    for tid in tids:
        created = api.post("/withdraws/new", {"uid": member.uid, "currency": "usd", "amount": "600", "rid": IBAN,
                                              "tid": tid})
        assert created.status_code == 201, created.json()

    run_threads(len(tids), lambda i: services.withdraw_action(tid=tids[i], action="process"))

    states = sorted(Withdraw.objects.filter(member=member).values_list("state", flat=True))
    assert states == ["accepted"] * 5 + ["succeed"]
    assert paid_without_operator(member, usd) == D(600)


def test_overlapping_audits_never_send_more_than_the_24h_limit(slow_quick_rule, monkeypatch):
    monkeypatch.setattr(services, "queue_send_on_commit", lambda withdraw_id: None)  # no broker here
    monkeypatch.setattr(services, "BATCH_SIZE", 1)  # each audit run takes one withdraw: they overlap
    btc = CoinFactory()  # 24 h limit 0.1
    member = MemberFactory()
    fund_member(member, btc, "1")
    for i in range(5):
        services.withdraw_create(uid=member.uid, currency=btc, amount=D("0.06"), rid=BTC_ADDRESS, tid=f"audit-{i}",
                                 request_digest=f"d{i}")

    run_threads(5, lambda i: services.withdraw_audit())

    states = sorted(Withdraw.objects.filter(member=member).values_list("state", flat=True))
    assert states == ["accepted"] * 4 + ["processing"]
    assert paid_without_operator(member, btc) == D("0.06")
