"""What the journal write of one money event costs, piece by piece (issue 13: what a lighter journal would buy).

The two postings of a member transfer inserted into `operations` as the migrations make the table, then on copies
of the same database with one more piece taken away each: the sync guard's trigger, the foreign keys (deferred:
checked at commit), the secondary indexes. The pieces that are left are the heap row, the primary key, the commit.

    DATABASE_URL=postgres://.../peatio_bench python bench/journal_write.py [--seconds 3] [--rounds 3]

One client, one statement per event in autocommit (its own transaction: one round trip), prepared on the server, `synchronous_commit = off` (the WAL
flush of a commit is the disk's figure, not the schema's); the variants alternate within every round. Prints
`RESULT journal_write <variant> <median us per event> <rounds...>`. The copies are dropped at the end.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from bench.ledger_transfers import setup  # noqa: E402

INSERT = """INSERT INTO operations (type, code, currency_id, member_id, reference_type, reference_id, debit, credit)
            VALUES ('liability', 201, 'usd', %(source)s, 'transfer', %(ref)s, 0.01, 0),
                   ('liability', 201, 'usd', %(destination)s, 'transfer', %(ref)s, 0, 0.01)"""

# Each variant is the previous one with one more piece taken away.
VARIANTS = {
    "as_migrated": [],
    "no_sync_guard": ["ALTER TABLE operations DISABLE TRIGGER operations_sync_guard"],
    "no_foreign_keys": ["""DO $$ DECLARE c text; BEGIN
        FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'operations'::regclass AND contype = 'f' LOOP
            EXECUTE format('ALTER TABLE operations DROP CONSTRAINT %I', c);
        END LOOP; END $$"""],
    "primary_key_only": ["""DO $$ DECLARE i regclass; BEGIN
        FOR i IN SELECT indexrelid::regclass FROM pg_index WHERE indrelid = 'operations'::regclass
                    AND NOT indisprimary LOOP
            EXECUTE format('DROP INDEX %s', i);
        END LOOP; END $$"""],
}


def conninfo(dbname: str) -> str:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if isinstance(v, (str, int))})


def copies(template: str) -> dict[str, str]:
    """One database per variant, a copy of the bench database with the variant's cuts (and all before it)."""
    names, cuts = {}, []
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        for variant, statements in VARIANTS.items():
            cuts += statements
            name = f"{template}_journal_{variant}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            with psycopg.connect(conninfo(name), autocommit=True) as copy:
                for statement in cuts:
                    copy.execute(statement)
                copy.execute("VACUUM ANALYZE operations")
            names[variant] = name
    return names


def us_per_event(dbname: str, member_ids: list[int], seconds: float) -> float:
    with psycopg.connect(conninfo(dbname), options="-c synchronous_commit=off", prepare_threshold=0,
                         autocommit=True) as db:
        events, n = 0, len(member_ids)
        start = time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            db.execute(INSERT, {"source": member_ids[events % n], "destination": member_ids[(events * 7 + 1) % n],
                                "ref": events})
            events += 1
    return 1e6 * elapsed / events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    member_ids = [member.pk for member in setup()]
    template = connection.settings_dict["NAME"]
    connection.close()
    connection.close_pool()  # a template must have no other session (DATABASE_POOL keeps some open)
    names = copies(template)
    try:
        figures: dict[str, list[float]] = {variant: [] for variant in names}
        for round_ in range(args.rounds):
            order = list(names) if round_ % 2 == 0 else list(reversed(names))
            for variant in order:
                figures[variant].append(us_per_event(names[variant], member_ids, args.seconds))
        for variant, runs in figures.items():
            print(f"RESULT journal_write {variant} {statistics.median(runs):.1f} "
                  + " ".join(f"{r:.1f}" for r in runs), flush=True)
    finally:
        with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
            for name in names.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
