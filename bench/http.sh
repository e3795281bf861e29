#!/usr/bin/env bash
# The HTTP slot of bench/run.sh: bench/http_bench.py with run.sh's arguments (--seconds, --runs, --processes).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-$PWD/.venv/bin/python}" bench/http_bench.py "$@"
