# Two commands for a fresh machine: `make run` (the whole system) and `make test` (the whole suite).
# Without DATABASE_URL / REDIS_URL both use the embedded PostgreSQL and Redis under var/ (peatio_mgmt.embedded).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
VAR := $(or $(PEATIO_VAR_DIR),$(CURDIR)/var)

export PEATIO_DEV_DEFAULTS ?= 1

.PHONY: install test lint run stop anvil
ANVIL_DIR := tools/anvil

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# anvil, the Ethereum node of the ethereum tests and of `make run`: the exact npm package of tools/anvil's lock
# (Node >= 20 only to install). Cheap when installed: node_modules newer than the lock means nothing to do.
$(ANVIL_DIR)/node_modules/.installed: $(ANVIL_DIR)/package-lock.json
	npm ci --prefix $(ANVIL_DIR) --no-audit --no-fund
	touch $@

anvil: $(ANVIL_DIR)/node_modules/.installed

lint: install
	$(PY) -m ruff check .
	$(PY) -m mypy

# The embedded servers are started only for the URLs that are not set (CI sets both in .ci/run); the tests take
# database 1 of the embedded Redis, `make run` database 0 (peatio_mgmt.embedded).
test: install anvil browser-deps lint
	urls=$$(PEATIO_EMBEDDED_REDIS_DB=1 $(PY) -m peatio_mgmt.embedded start) || exit 1; set -a; eval "$$urls"; set +a; \
	$(PY) -m pytest $(PYTEST_ARGS)

run: install anvil
	PY=$(PY) ./bin/run

# `make run` (bin/run, whose supervisors would restart a process stopped alone), whatever it left behind (its
# pidfiles), then the embedded PostgreSQL and Redis.
stop:
	@pid=$$(cat "$(VAR)/run/run.pid" 2>/dev/null) && grep -qa bin/run "/proc/$$pid/cmdline" 2>/dev/null && \
		kill -TERM "$$pid" && for i in $$(seq 150); do kill -0 "$$pid" 2>/dev/null || break; sleep 0.2; done && \
		echo "bin/run: stopped (with its supervisors)"; \
	for name in gunicorn celery-worker celery-beat anvil; do \
		pidfile="$(VAR)/run/$$name.pid"; \
		pid=$$(cat "$$pidfile" 2>/dev/null) || continue; \
		if grep -qa -e peatio_mgmt -e anvil "/proc/$$pid/cmdline" 2>/dev/null; then kill -TERM "$$pid" && echo "$$name: stopped"; fi; \
		rm -f "$$pidfile"; \
	done
	@if [ -x "$(PY)" ]; then $(PY) -m peatio_mgmt.embedded stop; fi

# Debian's Chromium and its driver for the browser tests (Playwright's browser download does not work here).
# Cheap when installed: two `command -v` checks.
.PHONY: browser-deps
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)
