# Steward: `make run` (control plane with embedded defaults) and `make test` (the whole suite).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint typecheck check services browser bench-catalog bench-audit bench-reviews bench-decisions-http

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@# The real OPA engine (Go, through ctypes) behind tests/opa_server.py. Its metadata asks for
	@# Python >= 3.14, but the wheel has no Python ABI and runs on 3.11; pinned, tests only.
	$(VENV)/bin/pip install -q --ignore-requires-python opa-golib-python-bindings==0.4.4
	touch $@

## run: the control plane on http://127.0.0.1:$${PORT:-8000}, SQLite, embedded Celery, demo data
run: $(VENV)/.installed
	$(PY) manage.py runlocal

## services: start Postgres and Redis on 127.0.0.1 if they are down (idempotent)
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done

## browser: Debian's chromium for the Playwright tests (Playwright's own download cannot run here)
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy .

check: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=controlplane.settings.test $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=controlplane.settings.test $(PY) manage.py makemigrations --check --dry-run

## test: lint, types, Django checks, then pytest against Postgres + Redis on 127.0.0.1
test: $(VENV)/.installed services browser lint typecheck check
	$(VENV)/bin/pytest

bench-catalog: $(VENV)/.installed services
	$(PY) bench/catalog_scale.py

bench-audit: $(VENV)/.installed services
	$(PY) bench/audit_log.py

bench-reviews: $(VENV)/.installed services
	$(PY) bench/review_campaign.py

## bench-decisions-http: gunicorn + wrk, decision API against a DRF + INSERT baseline (Debian's wrk)
bench-decisions-http: $(VENV)/.installed services
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(PY) bench/decisions_http.py $(ARGS)
