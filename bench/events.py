"""The partner event stream (coin-deposits-ethereum-events.md §16): what the outbox costs /withdraws/new, and how
fast push delivery goes to the reference receiver on a local port.

    DATABASE_URL=postgres://.../peatio_bench_events python bench/events.py [--rounds 7] [--requests 200] [--events 3000]

1. Cost: `withdraw_create` as POST /withdraws/new runs it — with `action: process` on a quick fiat withdraw (six
   events: the worst case) and without (two events) — timed in alternating slices with the outbox write on and off
   (EVENTS_OUTBOX, a setting only this benchmark turns off), the order flipped every round. Prints
   `RESULT events_withdraw_new <process|submit> <on|off> <median ms per request>` and
   `COST events_withdraw_new_<mode>=<median of the rounds' on - off> ms`.
2. Delivery: `--events` events are written and sequenced, the reference receiver (tools/event_receiver.py) runs as
   a process of its own, and one deliverer (events.services.partner_deliver, as the Celery task calls it) pushes
   them all: signing each (RS256), POSTing, recording each outcome. Prints `RESULT events_delivered_per_s <rate>`.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from events import config as events_config  # noqa: E402
from events.models import Event, EventPartner  # noqa: E402
from events.services import events_sequence, partner_deliver, partners_sync  # noqa: E402
from ledger.models import AccountType, Currency, Member  # noqa: E402
from ledger.services import Entry  # noqa: E402
from peatio_mgmt.idempotency import generate_tid  # noqa: E402
from peatio_mgmt.management_api.signing import generate_private_key, keychain_value, private_pem  # noqa: E402
from withdraws.services import withdraw_create  # noqa: E402

FUNDS = Decimal("100000000")
PARTNER = "bench.partner"


def setup() -> tuple[Currency, Member]:
    call_command("migrate", verbosity=0)
    # A fiat whose limits keep every withdraw quick (paid at once by `action: process`).
    currency, _ = Currency.objects.get_or_create(id="xbe", defaults={
        "name": "Bench fiat", "type": "fiat", "symbol": "B", "precision": 2,
        "withdraw_limit_24h": Decimal("1e15"), "withdraw_limit_72h": Decimal("1e15")})
    member, created = Member.objects.get_or_create(uid="BENCHEVENTS", defaults={"email": "events@bench.test",
                                                                              "level": 3})
    if created:
        Entry().platform(AccountType.ASSET, currency, "credit", FUNDS).plus_funds(member, currency, FUNDS).post()
    return Currency.objects.get(id="xbe"), member  # read back: the Decimal fields as the services expect them


def ms_per_request(currency, member, *, process: bool, requests: int) -> tuple[float, float]:
    """(wall, this process's CPU) milliseconds per request: the CPU figure holds on a machine shared with other
    work, where the wall time mostly measures the neighbours."""
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        tid = generate_tid()
        withdraw_create(uid=member.uid, currency=currency, amount=Decimal("2"), rid="DE89370400440532013000", tid=tid,
                        process=process, request_digest=tid)
    return (time.perf_counter() - start) * 1000 / requests, (time.process_time() - cpu) * 1000 / requests


def cost(currency, member, *, rounds: int, requests: int) -> None:
    for mode, process in (("process", True), ("submit", False)):
        ms_per_request(currency, member, process=process, requests=requests // 4)  # warm up
        results = {(side, kind): [] for side in ("on", "off") for kind in ("wall", "cpu")}
        for round_ in range(rounds):
            for side in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                settings.EVENTS_OUTBOX = side == "on"
                wall, cpu = ms_per_request(currency, member, process=process, requests=requests)
                results[side, "wall"].append(wall)
                results[side, "cpu"].append(cpu)
        settings.EVENTS_OUTBOX = True
        for (side, kind), runs in results.items():
            print(f"RESULT events_withdraw_new {mode} {side} {kind} {statistics.median(runs):.3f} "
                  + " ".join(f"{r:.3f}" for r in runs))
        for kind in ("wall", "cpu"):
            deltas = [on - off for on, off in zip(results["on", kind], results["off", kind], strict=True)]
            print(f"COST events_withdraw_new_{mode}_{kind}={statistics.median(deltas):.3f} ms "
                  f"({statistics.median(deltas) / statistics.median(results['off', kind]) * 100:.1f} %)")


def delivery(currency, member, *, events: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-events-"))
    key = generate_private_key("RS256")
    key_file = directory / "signing.pem"
    key_file.touch(mode=0o600)
    key_file.write_text(private_pem(key))
    port = 18900 + os.getpid() % 1000
    events_sequence()
    start_at = Event.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first() or 0
    path = directory / "events.yml"
    path.write_text(f"signing: {{kid: peatio, algorithm: RS256, private_key_file: {key_file}}}\n"
                    f"partners:\n  {PARTNER}: {{url: 'http://127.0.0.1:{port}/hook', start_at: {start_at}}}\n")
    partners_sync(config=events_config.reload(path))
    EventPartner.objects.filter(name=PARTNER).update(cursor=start_at, next_attempt_at=None)  # an earlier run's row
    partner = EventPartner.objects.get(name=PARTNER)
    while Event.objects.count() < start_at + events:  # quick withdraws: six events each
        ms_per_request(currency, member, process=True, requests=50)
    while events_sequence():
        pass
    top = Event.objects.order_by("-seq").values_list("seq", flat=True).first()
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "event_receiver.py"), "--port", str(port), "--aud", PARTNER,
         "--public-key", keychain_value(key)], stdout=subprocess.DEVNULL)
    try:
        time.sleep(1)
        settings.EVENTS_DELIVERY_BATCH = 10**9
        started, cpu = time.perf_counter(), time.process_time()
        sent = partner_deliver(partner_id=partner.pk)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        receiver.terminate()
        receiver.wait(10)
    partner.refresh_from_db()
    assert partner.cursor == top, (partner.cursor, top, partner.last_error)
    print(f"RESULT events_delivered_per_s {sent / elapsed:.1f} ({sent} events in {elapsed:.2f} s, one deliverer; "
          f"its CPU {cpu * 1000 / sent:.2f} ms per event; load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    currency, member = setup()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    cost(currency, member, rounds=args.rounds, requests=args.requests)
    delivery(currency, member, events=args.events)


if __name__ == "__main__":
    main()
