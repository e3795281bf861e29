# Two commands for a fresh machine: `make run` (the whole system) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

export PEATIO_DEV_DEFAULTS ?= 1

.PHONY: install test run stop

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

test: install browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian's Chromium and its driver for the browser tests (Playwright's browser download does not work here).
# Cheap when installed: two `command -v` checks.
.PHONY: browser-deps
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)
