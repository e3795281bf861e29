"""Peer: django-hordak's Account.transfer_to (a Transaction and two Legs; hordak's triggers check the balance)."""

import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.hordak.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from djmoney.money import Money  # noqa: E402
from hordak.models import Account  # noqa: E402

from bench.harness import main, pick_pair  # noqa: E402

ACCOUNTS = int(os.environ.get("BENCH_MEMBERS", "1000"))
AMOUNT = Money(Decimal("0.01"), "USD")


def setup() -> list[Account]:
    call_command("migrate", verbosity=0)
    existing = Account.objects.count()
    for i in range(existing, ACCOUNTS):
        Account.objects.create(name=f"member {i}", code=f"{i:06d}", type=Account.TYPES.liability, currencies=["USD"])
    return list(Account.objects.order_by("id")[:ACCOUNTS])


def transfer(rng, accounts) -> None:
    source, destination = pick_pair(rng, accounts)
    with transaction.atomic(durable=True):
        source.transfer_to(destination, AMOUNT)


if __name__ == "__main__":
    main("hordak", setup, transfer)
