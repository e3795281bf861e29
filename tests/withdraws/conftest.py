import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from ledger.models import Account, Operation
from withdraws.gateways.simulated import KEY_PREFIX, sends_key


@pytest.fixture(autouse=True)
def simulated_wallet():
    """The simulated gateway's Redis state, emptied around each test (tids repeat between tests)."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)

    def clear():
        keys = client.keys(f"{KEY_PREFIX}:*")
        if keys:
            client.delete(*keys)

    clear()
    yield client
    clear()


def backdate_send(client, currency_id: str, tid: str, seconds: float) -> None:
    """Pretend the simulated send of `tid` happened `seconds` earlier."""
    sent_at, amount = client.hget(sends_key(currency_id), tid).split(" ")
    client.hset(sends_key(currency_id), tid, f"{float(sent_at) - seconds} {amount}")


def funds(member, currency):
    account = Account.objects.filter(member=member, currency=currency).first()
    return (account.balance, account.locked) if account else (Decimal(0), Decimal(0))


def postings(withdraw):
    """(code, debit, credit, member id) of the withdraw's postings, in order of writing."""
    return [
        (o.code_id, o.debit, o.credit, o.member_id)
        for o in Operation.objects.filter(reference_type="withdraw", reference_id=withdraw.pk).order_by("id")
    ]


def wait_for(predicate, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not reached in time")
