#!/usr/bin/env bash
# Scale-out run on one machine: one PostgreSQL primary + one streaming replica, Redis, two web servers (separate
# gunicorn masters on two ports), two Celery workers and one beat; bench/load.py drives both web servers for 60 s
# (QUICK=1: 20 s) and SIGKILLs one web server (master and workers) and one worker (with its pool) halfway. Then
# prints requests/s, p50/p99 per route, the statuses (5xx must be 0: requests in flight on the killed server are
# sent again by their client to the other one, with the same tid/key), the per-member balance check, and the
# books check (`manage.py check_ledger`).
#
# Runs from a fresh clone (make install when .venv is missing). Everything on 127.0.0.1 and Unix sockets: the
# embedded PostgreSQL and Redis of var/scale/ (PEATIO_VAR_DIR, its own: `make run`'s data is not touched), the
# replica made by `python -m peatio_mgmt.embedded replica-start` (pg_basebackup + standby, var/scale/postgres-replica);
# all three stopped at the end. Bounded: the load run is killed after its duration + 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=$ROOT/.venv/bin/python
if [[ "${QUICK:-0}" == 1 ]]; then DURATION=20; else DURATION=60; fi
log() { echo "== $*" >&2; }

if [[ ! -x "$PY" ]]; then
    log "installing the project (make install)"
    make install >&2
fi

export PEATIO_VAR_DIR=${SCALE_VAR_DIR:-$ROOT/var/scale} PEATIO_DEV_DEFAULTS=1
unset DATABASE_URL REDIS_URL DATABASE_REPLICA_URL
stop_stores() {
    "$PY" -m peatio_mgmt.embedded replica-stop >&2 || true
    "$PY" -m peatio_mgmt.embedded stop >&2 || true
}
trap stop_stores EXIT

log "primary PostgreSQL and Redis (embedded, $PEATIO_VAR_DIR)"
urls=$("$PY" -m peatio_mgmt.embedded start)
eval "$urls"
log "streaming replica"
replica=$("$PY" -m peatio_mgmt.embedded replica-start)
eval "$replica"

# bench/load.py (bench/http_bench.py) recreates its database peatio_bench_load on PGHOST: the primary's socket.
PGHOST=$("$PY" -c 'from peatio_mgmt.embedded import default_var_dir, postgres_socket_dir; print(postgres_socket_dir(default_var_dir()))')
export PGHOST PGPORT=5432 PGUSER=postgres REDIS_URL
export DATABASE_REPLICA_URL=${DATABASE_REPLICA_URL/\/peatio\?//peatio_bench_load?}

log "load: ${DURATION} s, 2 web servers, 2 workers, beat; SIGKILL of one web server and one worker at $((DURATION / 2)) s"
status=0
timeout --kill-after=30 $((DURATION + 600)) "$PY" bench/load.py --duration "$DURATION" --web 2 --workers 2 --beat \
    --kill-after $((DURATION / 2)) || status=$?

# What the replica served: transactions in the load database there (pg_stat_database counts them per server).
"$PY" - <<'PYTHON' || status=$?
import os
import psycopg
with psycopg.connect(os.environ["DATABASE_REPLICA_URL"].replace("postgres://", "postgresql://", 1)) as replica:
    recovery, served = replica.execute("SELECT pg_is_in_recovery(), xact_commit FROM pg_stat_database"
                                       " WHERE datname = current_database()").fetchone()
print(f"replica (in recovery: {recovery}): {served} transactions served in the load database")
PYTHON

log "books check (manage.py check_ledger) on the primary"
DATABASE_URL="postgres://postgres@/peatio_bench_load?host=$PGHOST" "$PY" manage.py check_ledger || status=$?
exit $status
