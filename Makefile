# DeviceLedger — the commands a newcomer needs. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= small

.PHONY: run setup test lint format bench check clean

run: setup ## Set up and start the app on the demo district at http://127.0.0.1:8000
	@$(PY) manage.py demo_logins --url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

setup: $(VENV)/.installed ## Everything but starting the server: venv, install, migrate, seed the demo once
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale $(SCALE) --if-empty

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "DeviceLedger needs Python 3.11 or newer; set PYTHON=python3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	@touch $@

test: $(VENV)/.installed ## Run the whole test suite (DATABASE_URL=postgres://… for PostgreSQL)
	@mkdir -p var
	$(VENV)/bin/pytest -p no:logging

MYPY_PATHS ?= accounts core custody inventory people sites reports imports demo config

lint: $(VENV)/.installed ## ruff lint and format check, mypy (django-stubs)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_PATHS)

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: $(VENV)/.installed ## Django system checks and missing-migration check
	@mkdir -p var
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: $(VENV)/.installed ## Benchmarks on PostgreSQL; results appended to docs/benchmarks.md
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf var/*.sqlite3* var/media staticfiles
