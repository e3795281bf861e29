"""Round trips to PostgreSQL per request of the money routes, counted on the wire (libpq trace of the request's
connection: one ReadyForQuery per round trip) with the statements each one carried.

    DATABASE_URL=... REDIS_URL=... PEATIO_DEV_DEFAULTS=1 .venv/bin/python bench/round_trips.py

A route name with a word after it is a variant of the route's request (`deposits/new submitted`: no state).
The WSGI handler is called in-process with pre-signed bodies (as bench/inproc.py); each route gets a warm-up
request first (imports, per-process caches, the connection), then one traced request. The trace starts when the
request takes its connection (connection_created: with the pool, DATABASE_POOL, every request takes one).
"""

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")

from bench.inproc import environ, write_config  # noqa: E402

UIDS = ("UROUNDTRIP1", "UROUNDTRIP2")


def main() -> None:
    config, signers = write_config(Path(tempfile.mkdtemp(prefix="bench-rt-")))
    os.environ["MANAGEMENT_API_CONFIG"] = str(config)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db.backends.signals import connection_created

    from ledger.models import Member
    from peatio_mgmt.management_api.signing import sign
    from peatio_mgmt.wsgi import application
    from tests.factories import CurrencyFactory, fund_member

    usd = CurrencyFactory()
    for i, uid in enumerate(UIDS):
        member, created = Member.objects.get_or_create(uid=uid, defaults={"email": f"rt{i}@example.com", "level": 3})
        if created:
            fund_member(member, usd, "100000")
    unique = time.time_ns() // 1000
    routes = {
        "transfers/new": lambda n: {"key": n, "kind": "bench", "operations": [
            {"currency": "usd", "amount": "0.01", "account_src": {"code": 201, "uid": UIDS[0]},
             "account_dst": {"code": 201, "uid": UIDS[1]}},
            {"currency": "usd", "amount": "0.001", "account_src": {"code": 201, "uid": UIDS[0]},
             "account_dst": {"code": 301}}]},
        "liabilities/new": lambda n: {"currency": "usd", "code": 201, "uid": UIDS[1], "credit": "0.01"},
        "deposits/new": lambda n: {"uid": UIDS[1], "currency": "usd", "amount": "1.5", "tid": f"TIDRT{n}",
                                   "state": "accepted"},
        "deposits/new submitted": lambda n: {"uid": UIDS[1], "currency": "usd", "amount": "1.5", "tid": f"TIDRT{n}"},
        "withdraws/new": lambda n: {"uid": UIDS[0], "currency": "usd", "amount": "5", "rid": "DE89370400440532013000"},
        # A quick fiat withdraw (within the usd limits): submit, accept, process, dispatch, success.
        "withdraws/new process": lambda n: {"uid": UIDS[0], "currency": "usd", "amount": "1.5", "tid": f"TIDRT{n}",
                                            "rid": "DE89370400440532013000", "action": "process"},
    }
    wanted = sys.argv[1].split(",") if len(sys.argv) > 1 else list(routes)
    trace = Path(tempfile.mkdtemp(prefix="bench-rt-trace-")) / "trace"
    for route in wanted:
        for traced in (False, True):
            unique += 1
            now = int(time.time())
            body = json.dumps(sign({"iat": now, "exp": now + 60, "data": routes[route](unique)}, signers)).encode()
            statuses: list[str] = []
            traced_connections = []
            fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)

            def start_trace(sender, connection, fd=fd, traced_connections=traced_connections, **kwargs):
                pgconn = connection.connection.pgconn
                pgconn.trace(fd)
                traced_connections.append(pgconn)

            if traced:
                connection_created.connect(start_trace)
            answer = application(environ(route.split()[0], body), lambda status, headers, exc_info=None, seen=statuses:
                                 seen.append(status))
            b"".join(answer)
            answer.close()
            connection_created.disconnect(start_trace)
            for pgconn in traced_connections:
                pgconn.untrace()
            os.close(fd)
            assert statuses[0].startswith("201"), (route, statuses, b"".join(answer))
        lines = trace.read_text().splitlines()
        trips = sum(1 for line in lines if re.search(r"\tB\t\d+\tReadyForQuery", line))
        sent = [m.group(1).strip()[:100] for line in lines if (m := re.search(r"\tF\t\d+\t(?:Query|Parse)\t(.*)", line))]
        print(f"{route:24} round trips: {trips}")
        for statement in sent:
            print(f"    {statement}")


if __name__ == "__main__":
    main()
