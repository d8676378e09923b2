# qcity: `make run` and `make test` work on a fresh clone (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QCITY := $(BIN)/qcity
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast lint bench migrate defaults messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed
	mkdir -p var

migrate: install
	$(QCITY) migrate --noinput

defaults: migrate
	$(QCITY) load_defaults

messages: install
	$(QCITY) compilemessages --ignore '.venv/*' --ignore 'node_modules/*'

run: defaults messages
	$(QCITY) audit_keygen --if-missing
	@echo "qcity: http://$(HOST):$(PORT)/  (demo users: see README)"
	$(QCITY) runserver $(HOST):$(PORT)

test: install messages
	$(BIN)/ruff check qcity tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Skips the browser tests.
test-fast: install
	$(BIN)/python -m pytest -m "not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check qcity tests benchmarks
	$(BIN)/ruff format --check qcity tests benchmarks

bench: install
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) node_modules var/static
