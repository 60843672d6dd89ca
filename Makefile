# Two commands do all the set-up: `make run` serves the app, `make test` runs every test.
SHELL := /bin/bash
PORT ?= 8000
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUN := .tools/node_modules/.bin/bun
# The audit tools the browser tests and bench/frontend.py run (npm packages, pinned).
AXE := .tools/node_modules/axe-core/axe.min.js
LIGHTHOUSE := .tools/node_modules/.bin/lighthouse
NPM_TOOL := npm install --prefix .tools --no-audit --no-fund --loglevel=error --save-exact

# Reflex's own bun download needs the internet; a project-local bun from npm works offline.
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint format bench clean cluster

# Unset ADREMIX_ENV means production; these targets are for development and say so.
# (`ADREMIX_ENV=prod make run` still works: `?=` keeps what the environment says.)
run test bench: export ADREMIX_ENV ?= dev
run: export ADREMIX_PUBLIC_URL ?= http://localhost:$(PORT)

run: $(BIN)/.deps $(BUN)
	@mkdir -p data
	$(BIN)/alembic upgrade head
	$(BIN)/reflex run --env prod --single-port --backend-port $(PORT) --frontend-port $(PORT)

test: lint $(BUN) $(AXE) system-packages
	$(BIN)/python -m pytest

# Several processes on this machine, as production runs them: PostgreSQL, Redis, a local
# S3 server, two web workers (one port, Redis state) and two job workers. Ctrl-C stops
# it all; its data is temporary. See README, "Running as a cluster".
cluster: $(BIN)/.test-deps $(BUN) system-packages
	$(BIN)/python -m tests.cluster --port $(PORT)

# Style, formatting, the layers and package borders (pyproject.toml), and dead code.
lint: $(BIN)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/vulture

format: $(BIN)/.test-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: system-packages
system-packages:
	@scripts/ensure-system-packages.sh postgresql poppler-utils redis-server

$(BIN)/.deps: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(BIN)/.test-deps: requirements-dev.txt $(BIN)/.deps
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

$(BUN):
	$(NPM_TOOL) bun@1.4.4

$(AXE):
	$(NPM_TOOL) axe-core@4.14.1

# Lighthouse 13 needs Node 22; 12.x runs on the machine's Node 20.
$(LIGHTHOUSE):
	$(NPM_TOOL) lighthouse@12.8.2

# Benchmarks print their figures and end with one JSON line each.
bench: $(BIN)/.test-deps $(BUN) $(LIGHTHOUSE) system-packages
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/generation.py
	$(BIN)/python bench/invoices.py
	$(BIN)/python bench/scaleout.py
	$(BIN)/python bench/admin.py
	$(BIN)/python bench/brand.py
	$(BIN)/python bench/frontend.py

clean:
	rm -rf .web data test-artifacts
