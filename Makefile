# qcity: `make run` and `make test` work on a fresh clone (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
QCITY := $(BIN)/qcity
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers: one per core of the 2-core reference machine (each gets its own test database).
TEST_WORKERS ?= 2

.PHONY: install run test test-fast lint bench migrate defaults demo messages release clean system-deps system-deps-run

$(BIN)/python: | system-deps-run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json | system-deps-run
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages (.ci/debian-packages): installed with apt-get when run as root,
# otherwise one line names them and make stops (exit status 2).
system-deps-run:
	@PYTHON=$(PYTHON) .ci/system-deps run

system-deps:
	@PYTHON=$(PYTHON) .ci/system-deps test

install: system-deps-run $(VENV)/.installed node_modules/.installed
	mkdir -p var

migrate: install
	$(QCITY) migrate --noinput

defaults: migrate
	$(QCITY) load_defaults

# A year of demo reporting activity (README, "Demo users"); refused in production.
demo: defaults
	$(QCITY) load_demo_activity --if-enabled

messages: install
	$(QCITY) compilemessages --ignore '.venv/*' --ignore 'node_modules/*'

# The task worker and the timer loop run beside the server and stop with it (ADR 0019).
run: demo messages
	$(QCITY) audit_keygen --if-missing
	$(QCITY) pii_keygen --if-missing
	@echo "qcity: http://$(HOST):$(PORT)/  (demo users: see README)"
	@$(QCITY) db_worker --interval 2 & worker=$$!; \
	$(QCITY) run_timers --every 60 & timers=$$!; \
	trap 'kill $$worker $$timers 2>/dev/null; wait' EXIT INT TERM; \
	$(QCITY) runserver $(HOST):$(PORT)

test: system-deps install messages
	$(BIN)/ruff check qcity tests benchmarks
	$(BIN)/ruff format --check qcity tests benchmarks
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Skips the browser tests.
test-fast: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check qcity tests benchmarks
	$(BIN)/ruff format --check qcity tests benchmarks

# A production release, with the service's environment loaded (README, "Production").
release: install messages
	$(QCITY) migrate --noinput
	$(QCITY) collectstatic --noinput
	$(QCITY) check --deploy

bench: install
	$(BIN)/python -m benchmarks $(BENCH)

clean:
	rm -rf $(VENV) node_modules var/static
