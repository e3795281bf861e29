"""Peer: a plain Django transfer — select_for_update of both balance rows in pk order, funds check, two updates,
two journal inserts, one transaction."""

import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peers.plain.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from bench.harness import main, pick_pair  # noqa: E402
from bench.peers.plain.wallet.models import Balance, Journal  # noqa: E402

HOLDERS = int(os.environ.get("BENCH_MEMBERS", "1000"))
AMOUNT = Decimal("0.01")


def setup() -> list[int]:
    call_command("migrate", run_syncdb=True, verbosity=0)
    existing = Balance.objects.count()
    Balance.objects.bulk_create([Balance(holder=f"H{i}", amount=Decimal("1000000")) for i in range(existing, HOLDERS)])
    return list(Balance.objects.order_by("id").values_list("id", flat=True)[:HOLDERS])


def transfer(rng, ids) -> None:
    source_id, destination_id = pick_pair(rng, ids)
    with transaction.atomic(durable=True):
        rows = {b.pk: b for b in Balance.objects.select_for_update().filter(pk__in=(source_id, destination_id)).order_by("pk")}
        source, destination = rows[source_id], rows[destination_id]
        if source.amount < AMOUNT:
            raise ValueError("insufficient funds")
        source.amount -= AMOUNT
        destination.amount += AMOUNT
        source.save(update_fields=["amount"])
        destination.save(update_fields=["amount"])
        Journal.objects.create(balance=source, debit=AMOUNT)
        Journal.objects.create(balance=destination, credit=AMOUNT)


if __name__ == "__main__":
    main("plain_django", setup, transfer)
