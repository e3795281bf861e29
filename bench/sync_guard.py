"""What the sync guard (management-api-extensions.md §8.5) costs writers: transfer_create's rate with the
operations trigger enabled and disabled, in one run. Short slices alternate on/off (the order flipped every round)
so that the drift of a shared machine hits both sides alike; each round gives one on/off ratio.

    DATABASE_URL=postgres://.../peatio_bench python bench/sync_guard.py [--seconds 2] [--rounds 9] [--processes 2]

Prints `RESULT sync_guard <on|off> <seq|par> <median> <runs...>` and `RATIO sync_guard_<mode>=<median of the
rounds' on/off ratios>`. The trigger is enabled again whatever happens.
"""

import argparse
import os
import secrets
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench.harness import pick_pair, throughput  # noqa: E402
from bench.ledger_transfers import AMOUNT, setup  # noqa: E402
from ledger.models import ChartAccount, Currency  # noqa: E402
from ledger.services import TransferLeg, transfer_create  # noqa: E402


def transfer(rng, members) -> None:
    """One POST /transfers/new as its service runs it: member to member, 201 -> 201."""
    source, destination = pick_pair(rng, members)
    transfer_create(key=secrets.randbits(62), kind="member-transfer", desc=None, legs=[
        TransferLeg(currency=USD, amount=AMOUNT, source=LIABILITY, destination=LIABILITY,
                    source_uid=source.uid, destination_uid=destination.uid)])


def set_trigger(enabled: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE operations {'ENABLE' if enabled else 'DISABLE'} TRIGGER operations_sync_guard")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    members = setup()
    global USD, LIABILITY
    USD, LIABILITY = Currency.objects.get(id="usd"), ChartAccount.objects.get(code=201)
    results = {(side, mode): [] for side in ("on", "off") for mode in ("seq", "par")}
    try:
        for round_ in range(args.rounds):
            for mode in ("seq", "par"):
                processes = 1 if mode == "seq" else args.processes
                for side in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                    set_trigger(side == "on")
                    results[side, mode].append(throughput(transfer, members, processes=processes, seconds=args.seconds))
    finally:
        set_trigger(True)
    for (side, mode), runs in results.items():
        print(f"RESULT sync_guard {side} {mode} {statistics.median(runs):.1f} " + " ".join(f"{r:.1f}" for r in runs))
    for mode in ("seq", "par"):
        ratios = [on / off for on, off in zip(results["on", mode], results["off", mode], strict=True)]
        print(f"RATIO sync_guard_{mode}={statistics.median(ratios):.3f} (rounds: "
              + " ".join(f"{r:.2f}" for r in ratios) + ")")


if __name__ == "__main__":
    main()
