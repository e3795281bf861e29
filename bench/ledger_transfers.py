"""Member-to-member transfers as /transfers/new posts them: ledger.services.transfer_create, one statement.

One transfer = one call of the ledger_transfer_create function (migration 0008) in autocommit, its own
transaction: the Transfer row, the members by uid, both accounts locked in (member, currency) order, the funds
checked on the locked rows, both accounts and the two postings written. Run with DATABASE_URL on a bench database.
"""

import os
import secrets
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.harness import main, pick_pair  # noqa: E402
from ledger.core import Entry  # noqa: E402
from ledger.models import AccountType, ChartAccount, Currency, Member  # noqa: E402
from ledger.services import TransferLeg, transfer_create  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
FUNDS = Decimal("1000000")
AMOUNT = Decimal("0.01")


def setup() -> list[Member]:
    call_command("migrate", verbosity=0)
    usd, _ = Currency.objects.get_or_create(id="usd", defaults={"name": "US Dollar", "type": "fiat", "symbol": "$", "precision": 2})
    missing = MEMBERS - Member.objects.count()
    if missing > 0:
        start = Member.objects.count()
        new = Member.objects.bulk_create(
            [Member(uid=f"BENCH{start + i:06d}", email=f"bench{start + i}@example.com") for i in range(missing)]
        )
        for chunk in range(0, len(new), 200):
            entry = Entry()
            for member in new[chunk:chunk + 200]:
                entry.platform(AccountType.ASSET, usd, "credit", FUNDS).plus_funds(member, usd, FUNDS)
            entry.post()
    global USD, LIABILITY
    USD, LIABILITY = usd, ChartAccount.objects.get(code=201)
    return list(Member.objects.order_by("id")[:MEMBERS])


def transfer(rng, members) -> None:
    source, destination = pick_pair(rng, members)
    transfer_create(key=secrets.randbits(62), kind="member-transfer", desc=None, legs=[
        TransferLeg(currency=USD, amount=AMOUNT, source=LIABILITY, destination=LIABILITY, source_uid=source.uid,
                    destination_uid=destination.uid)])


if __name__ == "__main__":
    main("ledger", setup, transfer)
