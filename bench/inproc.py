"""Per-request CPU of the management API in-process: the WSGI handler called directly (no socket, no gunicorn),
pre-signed bodies, `time.process_time` around N requests; with CG=1 under valgrind, callgrind instrumentation is
switched on around the measured requests only (instructions per request: repeatable whatever the machine's load).

    CHECKOUT=<checkout> DATABASE_URL=... REDIS_URL=... PEATIO_DEV_DEFAULTS=1 \\
        <checkout>/.venv/bin/python bench/inproc.py [--n 2000] [--reps 3] [--routes timestamp,transfers/new] \\
        [--profile out.prof]
    CG=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=cg.out <python> bench/inproc.py --reps 1 ...

CHECKOUT selects the code measured (this one or an older worktree, e.g. the commit before the DRF move); run it
with that checkout's .venv. The database gets migrated, the usd currency and a member with 1,000 liabilities
postings (the /liabilities page, limit 1000); /transfers/new bodies have unique keys (0.01 usd member -> 301),
/deposits/new (1.5 usd, accepted) and /withdraws/new (1.5 usd to a rid, submitted) unique tids.
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("CHECKOUT", Path(__file__).resolve().parent.parent)).resolve()
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peatio_mgmt.settings.base")
os.environ.setdefault("PEATIO_DEV_DEFAULTS", "1")
CG = bool(os.environ.get("CG"))
KIDS = ("bench-1", "bench-2")
UID = "UBENCH00001"


def write_config(directory: Path):
    import yaml

    from peatio_mgmt.management_api.config import SCOPES
    from peatio_mgmt.management_api.signing import generate_private_key, keychain_value

    keys = [generate_private_key("RS256") for _ in KIDS]
    document = {"keychain": {k: {"algorithm": "RS256", "value": keychain_value(key)} for k, key in zip(KIDS, keys, strict=True)},
                "jwt": {"verify_iat": True, "leeway": 30},
                "scopes": {s: {"permitted_signers": list(KIDS), "mandatory_signers": list(KIDS)} for s in SCOPES}}
    path = directory / "management_api.yml"
    path.write_text(yaml.safe_dump(document))
    return path, [(k, key, "RS256") for k, key in zip(KIDS, keys, strict=True)]


def environ(path: str, body: bytes) -> dict:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v2/management/" + path, "SCRIPT_NAME": "",
            "QUERY_STRING": "", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0)}


def callgrind(switch: str) -> None:
    if CG:
        subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000, help="requests per measured run")
    parser.add_argument("--reps", type=int, default=3, help="measured runs per route (the minimum counts)")
    parser.add_argument("--routes", default="timestamp,accounts/balance,transfers/new,liabilities")
    parser.add_argument("--profile", help="cProfile of the last run of each route, to this file")
    args = parser.parse_args()
    config, signers = write_config(Path(tempfile.mkdtemp(prefix="bench-inproc-")))
    os.environ["MANAGEMENT_API_CONFIG"] = str(config)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from ledger.models import Member
    from peatio_mgmt.management_api.signing import sign
    from peatio_mgmt.wsgi import application
    from tests.factories import CurrencyFactory, fund_member

    usd = CurrencyFactory()
    member, created = Member.objects.get_or_create(uid=UID, defaults={"email": "bench@example.com", "level": 3})
    if created:
        fund_member(member, usd, "100000.85")
        for _ in range(999):
            fund_member(member, usd, "0.01")
    now = int(time.time())
    fixed = {"timestamp": {}, "accounts/balance": {"uid": UID, "currency": "usd"},
             "liabilities": {"uid": UID, "limit": 1000}}
    operation = {"currency": "usd", "amount": "0.01", "account_src": {"code": 201, "uid": UID},
                 "account_dst": {"code": 301}}
    # Bodies with a unique key or tid per request.
    unique = {
        "transfers/new": lambda n: {"key": n, "kind": "bench", "operations": [operation]},
        "deposits/new": lambda n: {"uid": UID, "currency": "usd", "amount": "1.5", "tid": f"TIDIP{n}",
                                   "state": "accepted"},
        "withdraws/new": lambda n: {"uid": UID, "currency": "usd", "amount": "1.5", "tid": f"TIDIP{n}",
                                    "rid": "DE89370400440532013000"},
    }
    statuses: dict[str, int] = {}

    def start_response(status, headers, exc_info=None):
        statuses[status] = statuses.get(status, 0) + 1

    def call(env: dict) -> None:
        answer = application(env, start_response)
        b"".join(answer)
        answer.close()

    key = time.time_ns() // 1000
    profile = None
    if args.profile:
        import cProfile
        profile = cProfile.Profile(time.process_time)  # CPU: waits on the server are not the code's
    for route in args.routes.split(","):
        figures, faults, system = [], [], []
        for rep in range(args.reps):
            if route in unique:
                bodies = [json.dumps(sign({"iat": now, "exp": now + 3600, "data": unique[route](key + i)},
                                          signers)).encode() for i in range(args.n)]
                key += args.n
            else:
                bodies = [json.dumps(sign({"iat": now, "data": fixed[route]}, signers)).encode()] * args.n
                if rep == 0:
                    for body in bodies[:50]:  # warm-up: imports, caches, the connection
                        call(environ(route, body))
            envs = [environ(route, body) for body in bodies]
            statuses.clear()
            measured = profile is not None and rep == args.reps - 1
            if measured:
                profile.enable()
            callgrind("on")
            usage = resource.getrusage(resource.RUSAGE_SELF)
            started = time.process_time()
            for env in envs:
                call(env)
            seconds = time.process_time() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            faults.append((after.ru_minflt - usage.ru_minflt) / args.n)
            system.append((after.ru_stime - usage.ru_stime) / args.n * 1e6)
            callgrind("off")
            if measured:
                profile.disable()
            assert all(status.startswith("201") for status in statuses), statuses
            figures.append(seconds / args.n * 1e6)
        print(f"{route:20} n={args.n} us CPU/request: min {min(figures):.0f}  runs "
              f"{' '.join(f'{f:.0f}' for f in figures)}; system us/request {' '.join(f'{f:.0f}' for f in system)}; "
              f"minor page faults/request {' '.join(f'{f:.2f}' for f in faults)}", flush=True)
    if profile is not None:
        profile.dump_stats(args.profile)


if __name__ == "__main__":
    main()
