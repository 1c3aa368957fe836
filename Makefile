# vern: two commands for a newcomer, `make run` and `make test`.
# Everything they need is installed into .venv from the hashed pins in requirements/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint api-fuzz promises bench lock messages clean

help:
	@echo "make run       serve vern on http://127.0.0.1:$(PORT) (web + worker, SQLite in var/)"
	@echo "make test      install the test tools and run the whole suite"
	@echo "make lint      ruff, mypy (django-stubs) and the import layers"
	@echo "make api-fuzz  schemathesis against /api/openapi.json on a server of its own"
	@echo "make promises  list each promise P1-P24 with the tests that prove it"
	@echo "make bench     size and speed figures: consent banner, analytics beacon and dashboard, retention, rights requests (long)"
	@echo "make messages  update the translation catalogues after changing texts"
	@echo "make lock      re-pin requirements/*.txt from pyproject.toml"

# A stamp per requirements file: reinstall only when the pins change.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "vern needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base-installed: requirements/base.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/base.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.base-installed

run: $(VENV)/.base-installed
	PORT=$(PORT) $(BIN)/vern run

# The suite runs in one process per core, up to four (pytest-xdist); a file's tests stay in one
# process, as they share their fixtures. TEST_WORKERS=0 runs it in this process alone.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 4 ] && n=4; echo $$n)
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: $(VENV)/.dev-installed
	@scripts/ensure-chromium
	@scripts/ensure-dovecot
	@scripts/ensure-redis
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# The suite without the browser tests, for a quick loop while coding.
test-fast: $(VENV)/.dev-installed
	@scripts/ensure-dovecot
	@scripts/ensure-redis
	$(BIN)/pytest $(XDIST) -m "not browser" $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy vern scripts
	$(BIN)/lint-imports

# schemathesis against the API's own description, on a fresh database of DATABASE_URL's kind.
api-fuzz: $(VENV)/.dev-installed
	$(BIN)/python scripts/api_fuzz.py

promises: $(VENV)/.dev-installed
	$(BIN)/python scripts/promises.py

# Speed and size, printed with the figures they are compared against; never part of the tests.
bench: $(VENV)/.dev-installed
	@scripts/ensure-chromium
	@scripts/ensure-wrk
	$(BIN)/python bench/consent_bench.py
	$(BIN)/python bench/analytics_bench.py
	$(BIN)/python bench/retention_bench.py
	$(BIN)/python bench/rights_bench.py
	$(BIN)/python bench/backup_bench.py

messages: $(VENV)/.dev-installed
	cd vern && ../$(BIN)/vern django makemessages --locale nb --no-obsolete --add-location file --ignore "*/tests/*" --ignore "testing.py"
	$(BIN)/python scripts/compile_messages.py

lock:
	$(PYTHON) -m venv /tmp/vern-piptools && /tmp/vern-piptools/bin/pip install --quiet pip-tools
	/tmp/vern-piptools/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe -o requirements/base.txt pyproject.toml
	/tmp/vern-piptools/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
