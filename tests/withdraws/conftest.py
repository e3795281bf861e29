import time
from decimal import Decimal

import pytest
from django.db import transaction

from events.services import event_record
from ledger.models import Account, Operation
from withdraws.gateways import simulated
from withdraws.models import Withdraw


@pytest.fixture(autouse=True)
def simulated_wallet(django_db_setup, django_db_blocker):
    """The simulated gateway's wallet (its own connection, committed apart from the test's transaction), emptied
    around each test: tids repeat between tests."""
    with django_db_blocker.unblock():
        simulated.wallet_connection().execute("DELETE FROM simulated_wallet_sends")
        yield simulated.wallet_connection()
        simulated.wallet_connection().execute("DELETE FROM simulated_wallet_sends")


def backdate_send(wallet, currency_id: str, tid: str, seconds) -> None:
    """Pretend the simulated send of `tid` happened `seconds` earlier."""
    updated = wallet.execute(
        "UPDATE simulated_wallet_sends SET sent_at = sent_at - make_interval(secs => %s)"
        " WHERE currency = %s AND reference = %s", (Decimal(str(seconds)), currency_id, tid)).rowcount
    assert updated == 1


def sends(wallet, currency_id: str) -> list[tuple[str, Decimal]]:
    """(reference, amount) of the simulated wallet's sends in the currency, in order of sending."""
    return wallet.execute("SELECT reference, amount FROM simulated_wallet_sends WHERE currency = %s ORDER BY id",
                          (currency_id,)).fetchall()


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


def in_state(withdraw, state, **fields):
    """The withdraw put in `state` by hand (a test's shortcut past the services), announced on the event stream as
    a transition would be, so that the books check's events-mirror-state invariant (13) holds for it too."""
    with transaction.atomic():
        Withdraw.objects.filter(pk=withdraw.pk).update(state=state, **fields)
        forged = Withdraw.objects.get(pk=withdraw.pk)
        event_record(forged)
    return forged
