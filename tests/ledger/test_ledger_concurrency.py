import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from ledger.core import Entry
from ledger.models import Account
from peatio_mgmt.errors import InsufficientFunds
from tests.factories import fund_member


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_locks_on_funds_covering_five_exactly_five_succeed(member, usd):
    fund_member(member, usd, 50)
    barrier = threading.Barrier(20)
    outcomes = []

    def lock_ten():
        try:
            barrier.wait()
            with transaction.atomic(durable=True):
                Entry().lock_funds(member, usd, Decimal("10")).post()
            outcomes.append("ok")
        except InsufficientFunds:
            outcomes.append("insufficient")
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=lock_ten) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes).count("ok") == 5 and outcomes.count("insufficient") == 15
    acc = Account.objects.get(member=member, currency=usd)
    assert (acc.balance, acc.locked) == (0, Decimal("50"))
