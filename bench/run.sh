#!/usr/bin/env bash
# Benchmarks of the ledger against pgbench and two peers, on one PostgreSQL server, in one run.
#   bench/run.sh            5 runs of 10 s per figure
#   QUICK=1 bench/run.sh    3 runs of 3 s (well under 3 minutes)
# Runs from a fresh clone: installs the project's .venv (make install), pgbench and wrk (Debian packages) and the
# django-hordak peer's own venv (var/venv-hordak) when they are missing.
# Env: PGHOST/PGPORT/PGUSER (default: the embedded PostgreSQL and Redis of the project, started under var/bench and
# stopped at the end), PYTHON (default the repo's .venv), BENCH_HORDAK_VENV,
# BENCH_KEEP=1 keeps the bench databases (default: dropped and recreated, so every run starts from the same state).
# Prints a table, then `RATIO name=value` lines (medians of the runs, 8 concurrent clients).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$PWD/.venv/bin/python}
HORDAK_VENV=${BENCH_HORDAK_VENV:-$PWD/var/venv-hordak}
CLIENTS=8
if [[ "${QUICK:-0}" == 1 ]]; then SECONDS_PER_RUN=3; RUNS=3; else SECONDS_PER_RUN=10; RUNS=5; fi
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

log() { echo "== $*" >&2; }

if [[ ! -x "$PYTHON" ]]; then
    log "installing the project (make install)"
    make install >&2
fi
if [[ -z "${PGHOST:-}" ]]; then
    # A fresh machine has no PostgreSQL of its own: the project's embedded one (and its Redis), on Unix sockets.
    export PEATIO_VAR_DIR=$PWD/var/bench
    trap '"$PYTHON" -m peatio_mgmt.embedded stop >&2 || true; rm -f "$RESULTS"' EXIT
    log "embedded PostgreSQL and Redis under $PEATIO_VAR_DIR"
    eval "$(env -u DATABASE_URL -u REDIS_URL "$PYTHON" -m peatio_mgmt.embedded start)"
    PGHOST=$("$PYTHON" -c 'from peatio_mgmt.embedded import default_var_dir, postgres_socket_dir; print(postgres_socket_dir(default_var_dir()))')
    export REDIS_URL
fi
export PGHOST PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
missing=()
command -v pgbench >/dev/null || missing+=(postgresql-contrib)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v wrk >/dev/null || missing+=(wrk)
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ ! -x "$HORDAK_VENV/bin/python" ]]; then
    # Its own venv: hordak pulls django-mptt, django-money and friends the project does not use.
    log "creating $HORDAK_VENV with django-hordak"
    "$PYTHON" -m venv "$HORDAK_VENV"
    "$HORDAK_VENV/bin/pip" install -q "django-hordak==2.0.0" "Django>=5.2,<5.3" "psycopg[binary]>=3.2,<4"
fi

fresh_db() {
    if [[ "${BENCH_KEEP:-0}" != 1 ]]; then psql -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" postgres; fi
    psql -qtAc "SELECT 1 FROM pg_database WHERE datname = '$1'" postgres | grep -q 1 || psql -qc "CREATE DATABASE $1" postgres
}

median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

log "pgbench TPC-B-like, scale 10, $CLIENTS clients"
fresh_db peatio_bench_pgbench
pgbench -i -q -s 10 peatio_bench_pgbench >/dev/null 2>&1
runs=()
for _ in $(seq "$RUNS"); do
    runs+=("$(pgbench -n -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" peatio_bench_pgbench 2>/dev/null | awk '/^tps = / {printf "%.1f", $3}')")
done
echo "RESULT pgbench par $(echo "${runs[*]}" | median) ${runs[*]}" >>"$RESULTS"

ARGS=(--seconds "$SECONDS_PER_RUN" --runs "$RUNS" --processes "$CLIENTS")

log "ledger: services.transfer_create, one ledger_transfer_create call (member -> member)"
fresh_db peatio_bench
DATABASE_URL="postgres://$PGUSER@/peatio_bench?host=$PGHOST&port=$PGPORT" REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15} \
    PEATIO_DEV_DEFAULTS=1 DJANGO_DEBUG=0 "$PYTHON" bench/ledger_transfers.py "${ARGS[@]}" | tee -a "$RESULTS" >&2

log "peer: django-hordak Account.transfer_to"
fresh_db peatio_bench_hordak
"$HORDAK_VENV/bin/python" bench/peers/hordak/run.py "${ARGS[@]}" | tee -a "$RESULTS" >&2

log "peer: plain Django transfer"
fresh_db peatio_bench_plain
"$PYTHON" bench/peers/plain/run.py "${ARGS[@]}" | tee -a "$RESULTS" >&2

if [[ -x bench/http.sh ]]; then
    # The HTTP slots (needs the management API routes): appends RESULT lines for http_timestamp, http_transfer,
    # plain_http_timestamp and plain_http_transfer; without it those ratios print n/a.
    log "HTTP"
    bench/http.sh "${ARGS[@]}" | tee -a "$RESULTS" >&2
fi

echo
"$PYTHON" bench/report.py "$RESULTS"
