"""Benchmark of the journal list routes on a journal of 1,000,000 postings (default).

    .venv/bin/python bench/liabilities.py [--rows 1000000] [--tail 30000] [--members 1000] [--runs 50] [--refill]

Creates (once) a separate database, BENCH_DATABASE (default peatio_bench_books on the server of DATABASE_URL),
migrates it and fills it with INSERT … SELECT generate_series: ~1,000 members, usd/eur/btc/eth, postings of the
four types (70 % member liabilities) made by deposits, withdraws and transfers. The first member is "heavy": half
the liability postings of the oldest tenth of the journal (~35,000) are his, none later — the case where a
planner walking the primary key backwards for "newest first" would read most of the table. The member postings have no
balances behind them (only reads are measured). The journal checkpoint (ledger.checkpoints) is advanced once the
first `rows - tail` postings are written and vacuumed; the last `--tail` postings (default 30,000: a 30 s checkpoint
interval at 1,000 postings/s) come after it, not yet all-visible, so the lists' Total counts them live, as between
two checkpoints in production. Then it times the routes in-process through the journal viewsets' list action
(parameter parsing, look-ups, the queries, rendering, JSON encoding — everything but the JWS gate and HTTP),
prints p50/p95 in ms per case and the EXPLAIN ANALYZE of the list queries (ids of the page, rows by id, COUNT).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILL_MEMBERS = """
INSERT INTO members (uid, email, level, role, state, created_at, updated_at)
SELECT 'UB' || lpad(g::text, 8, '0'), 'ub' || g || '@bench.example', 3, 'member', 'active', now(), now()
FROM generate_series(1, %(members)s) g
"""

# One row per posting; the random draws decide type, currency, side, member and reference independently.
FILL_OPERATIONS = """
INSERT INTO operations (type, code, currency_id, member_id, reference_type, reference_id, debit, credit, created_at)
SELECT type,
       CASE type WHEN 'liability' THEN 201 + CASE WHEN r_kind < 0.8 THEN 0 ELSE 10 END
                 WHEN 'asset' THEN 101 WHEN 'revenue' THEN 301 ELSE 401 END + CASE WHEN cur IN ('btc', 'eth') THEN 1 ELSE 0 END,
       cur,
       CASE WHEN type = 'liability' AND g <= %(rows)s / 10 AND r_kind < 0.5 THEN %(first_member)s
            WHEN type = 'liability' OR (type = 'revenue' AND r_member < 0.5) THEN %(first_member)s + floor(r_member * %(members)s)::int END,
       ref,
       CASE WHEN ref IS NOT NULL THEN g END,
       CASE WHEN r_side < 0.5 THEN amount ELSE 0 END,
       CASE WHEN r_side >= 0.5 THEN amount ELSE 0 END,
       timestamptz '2025-01-01' + g * interval '30 seconds'
FROM (
    SELECT g,
           CASE WHEN r_type < 0.70 THEN 'liability' WHEN r_type < 0.85 THEN 'asset'
                WHEN r_type < 0.95 THEN 'revenue' ELSE 'expense' END AS type,
           (ARRAY['usd', 'eur', 'btc', 'eth'])[1 + floor(random() * 4)::int] AS cur,
           CASE WHEN r_ref < 0.4 THEN 'deposit' WHEN r_ref < 0.8 THEN 'withdraw' WHEN r_ref < 0.9 THEN 'transfer' END AS ref,
           round((random() * 1000)::numeric, 8) + 0.00000001 AS amount,
           random() AS r_kind, random() AS r_side, random() AS r_member
    FROM (SELECT g, random() AS r_type, random() AS r_ref FROM generate_series(%(first)s, %(last)s) g) draws
) postings
"""

CURRENCIES = [
    ("usd", "fiat", "$"), ("eur", "fiat", "€"), ("btc", "coin", "B"), ("eth", "coin", "E"),
]


def bench_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def ensure_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(bench_url(base_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def fill(rows: int, tail: int, members: int, refill: bool) -> None:
    from django.db import connection

    from ledger.checkpoints import journal_checkpoint_advance
    from ledger.models import Currency, JournalCheckpoint, Member, Operation

    if not refill and Operation.objects.count() == rows and Member.objects.count() == members:
        checkpoint = JournalCheckpoint.objects.first()
        print(f"journal already holds {rows} postings of {members} members,"
              f" checkpoint at #{checkpoint.upto_id if checkpoint else 0}")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE operations, accounts, transfers, members RESTART IDENTITY CASCADE")
    for code, type_, symbol in CURRENCIES:
        Currency.objects.update_or_create(id=code, defaults={"type": type_, "symbol": symbol})
    with connection.cursor() as cursor:
        cursor.execute(FILL_MEMBERS, {"members": members})
        cursor.execute("SELECT min(id) FROM members")
        (first_member,) = cursor.fetchone()
        fill = {"rows": rows, "members": members, "first_member": first_member}
        cursor.execute(FILL_OPERATIONS, fill | {"first": 1, "last": rows - tail})
        cursor.execute("VACUUM ANALYZE operations")  # visibility map for index-only COUNTs, fresh statistics
        cursor.execute("VACUUM ANALYZE members")
    upto_id = journal_checkpoint_advance()
    with connection.cursor() as cursor:
        cursor.execute(FILL_OPERATIONS, fill | {"first": rows - tail + 1, "last": rows})
    print(f"filled {rows} postings of {members} members in {time.perf_counter() - started:.1f} s,"
          f" checkpoint at #{upto_id}")


def measure(route_path: str, make_data, runs: int) -> tuple[float, float, int]:
    """The journal viewset's `list` action on `data` (parameters, query, rendering), without the JWS."""
    from types import SimpleNamespace

    from ledger.api import journals
    from peatio_mgmt.management_api.renderers import to_json

    viewset = getattr(journals, f"{route_path[:-1].title() if route_path != 'liabilities' else 'Liability'}ViewSet")
    timings = []
    for i in range(runs + 3):
        view = viewset()
        view.request = SimpleNamespace(data=make_data())
        started = time.perf_counter()
        response = view.list(view.request)
        to_json(response.data)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 201, (response.status_code, response.data)
        if i >= 3:  # warm-up runs are not counted
            timings.append(elapsed)
    return statistics.median(timings), percentile(timings, 0.95), len(response.data)


def percentile(timings: list[float], fraction: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(round(fraction * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tail", type=int, default=30_000, help="postings written after the checkpoint")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = os.environ.get("BENCH_DATABASE", "peatio_bench_books")
    ensure_database(base_url, name)
    os.environ["DATABASE_URL"] = bench_url(base_url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
    os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")
    os.environ["DJANGO_DEBUG"] = "0"  # no query log in the timings

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    fill(args.rows, args.tail, args.members, args.refill)

    from ledger.models import Currency, Member, Operation
    from ledger.selectors import OPERATION_FIELDS, operation_ids, operation_total, operation_total_sql

    uids = list(Member.objects.order_by("id").values_list("uid", flat=True))
    pick = random.Random(7).choice

    cases = [
        ("liabilities", "uid, limit 100", lambda: {"uid": pick(uids), "limit": 100}),
        ("liabilities", "uid, limit 10000", lambda: {"uid": pick(uids), "limit": 10000}),
        ("liabilities", "uid of the heavy member, limit 100", lambda: {"uid": uids[0], "limit": 100}),
        ("liabilities", "uid + currency, limit 100", lambda: {"uid": pick(uids), "currency": "btc", "limit": 100}),
        ("liabilities", "uid, page 5, limit 100", lambda: {"uid": pick(uids), "page": 5, "limit": 100}),
        ("liabilities", "no filter, limit 100", lambda: {"limit": 100}),
        ("liabilities", "reference_type transfer, limit 100", lambda: {"reference_type": "Transfer", "limit": 100}),
        ("assets", "no filter, limit 100", lambda: {}),
        ("assets", "currency, limit 100", lambda: {"currency": "eur"}),
        ("revenues", "reference_type, limit 100", lambda: {"reference_type": "deposit"}),
        ("expenses", "time_from/time_to (one day), limit 100",
         lambda: {"time_from": 1736000000, "time_to": 1736086400}),
    ]
    print(f"\n{'route':<13} {'case':<40} {'rows':>6} {'p50 ms':>8} {'p95 ms':>8}   ({args.runs} runs, in-process list action)")
    for route, label, make_data in cases:
        p50, p95, count = measure(route, make_data, args.runs)
        print(f"{route:<13} {label:<40} {count:>6} {p50:>8.2f} {p95:>8.2f}")

    # Total alone, for the lists the journal checkpoint serves: its one statement against the COUNT(*) it replaces,
    # interleaved call by call.
    currencies = {code: Currency.objects.get(pk=code) for code in ("usd", "eur")}
    totals = [
        ("liabilities", "no filter", {"type_": "liability"}),
        ("liabilities", "reference_type transfer", {"type_": "liability", "reference_type": "Transfer"}),
        ("assets", "no filter", {"type_": "asset"}),
        ("assets", "currency", {"type_": "asset", "currency": currencies["eur"]}),
        ("revenues", "reference_type", {"type_": "revenue", "reference_type": "deposit"}),
        ("expenses", "currency + reference_type", {"type_": "expense", "currency": currencies["usd"],
                                                   "reference_type": "withdraw"}),
    ]
    print(f"\n{'route':<13} {'Total of':<40} {'Total':>8} {'checkpoint p50/p95 ms':>22} {'COUNT(*) p50/p95 ms':>20}")
    for route, label, filters in totals:
        fast, slow = [], []
        for i in range(args.runs + 3):
            started = time.perf_counter()
            total = operation_total(**filters)
            middle = time.perf_counter()
            count = operation_ids(**filters).order_by().count()
            if i >= 3:
                fast.append((middle - started) * 1000)
                slow.append((time.perf_counter() - middle) * 1000)
        assert total == count, (route, label, total, count)
        print(f"{route:<13} {label:<40} {total:>8} {statistics.median(fast):>10.2f} / {percentile(fast, 0.95):<9.2f}"
              f" {statistics.median(slow):>9.2f} / {percentile(slow, 0.95):.2f}")

    member = Member.objects.get(uid=uids[1])
    heavy = Member.objects.get(uid=uids[0])
    btc = Currency.objects.get(pk="btc")
    plans = [
        ("liabilities uid, limit 100", operation_ids(type_="liability", member=member)[:100]),
        ("liabilities uid, limit 10000", operation_ids(type_="liability", member=member)[:10000]),
        ("liabilities uid of the heavy member, limit 100", operation_ids(type_="liability", member=heavy)[:100]),
        ("liabilities uid + currency, limit 100", operation_ids(type_="liability", member=member, currency=btc)[:100]),
        ("rows of a page by id", Operation.objects.filter(
            id__in=list(operation_ids(type_="liability", member=heavy)[:100])).order_by("-id").values(*OPERATION_FIELDS)),
        ("COUNT liabilities uid", operation_ids(type_="liability", member=member).order_by()),
        ("COUNT liabilities (no filter)", operation_ids(type_="liability").order_by()),
        ("Total liabilities (no filter): checkpoint counts + tail", operation_total_sql(
            type_="liability", currency=None, reference_type=None)),
    ]
    from django.db import connection

    for label, queryset in plans:
        print(f"\nEXPLAIN ANALYZE — {label}")
        if label.startswith(("COUNT", "Total")):
            if label.startswith("COUNT"):
                sql, params = queryset.values("id").query.sql_with_params()
                sql = f"SELECT COUNT(*) FROM ({sql}) q"
            else:
                sql, params = queryset
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()))
        else:
            print(queryset.explain(analyze=True, buffers=True))


if __name__ == "__main__":
    main()
