# Strongroom. `make serve` and `make test` are the README's quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_HOME := .strongroom-demo
SCAN_HOME := .strongroom-scan

.PHONY: serve demo test lint typecheck unit bench soak mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

## serve: the HTTPS API on https://127.0.0.1:8443 over ./.strongroom-demo (made with the
## sample workspace if new); prints the CA certificate's path and an owner token
serve: $(VENV)/.installed
	$(BIN)/strongroom serve --demo --home $(DEMO_HOME)

## demo: a fresh home at ./.strongroom-scan with a sample workspace, scanned for plaintext
## (its own folder: the home `make serve` uses is never wiped)
demo: $(VENV)/.installed
	rm -rf $(SCAN_HOME)
	$(BIN)/strongroom demo --home $(SCAN_HOME)

## test: lint, type-check and the whole suite (SQLite, PostgreSQL, SoftHSM2)
test: $(VENV)/.installed-dev lint typecheck
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/unit

## bench: benchmarks (installs Debian's wrk for the API ones and restic for the backup ones);
## writes bench/results.json and prints the table
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || { as_root=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$as_root apt-get update -qq && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	@command -v restic >/dev/null || { as_root=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$as_root apt-get update -qq && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic; }
	$(BIN)/python -m bench

## soak: 50 clients for 10 minutes over HTTPS against `serve` on a PostgreSQL server of its
## own, with a worker, backups and faults (API and worker SIGKILL, PostgreSQL restart, the KMS
## stopped, the blob disk full); checks every acknowledged write, writes bench/soak/results.json.
## SOAK_MINUTES, SOAK_CLIENTS, SOAK_SEED shorten or repeat it. See docs/reliability.md.
soak: $(VENV)/.installed-dev
	$(BIN)/python -m bench.soak

## mutate: mutation testing (cosmic-ray) of the security-critical modules, each with its own
## fast tests (tests/mutation/modules.toml); prints the survivors. Not part of `make test`.
## MODULES="roles access" limits the run, MODULES="--survivors roles" reruns only the last
## run's survivors; results in build/mutate/. See docs/testing.md.
mutate: $(VENV)/.installed-dev
	$(BIN)/python -m tests.mutation.run $(MODULES)

clean:
	rm -rf $(VENV) $(DEMO_HOME) $(SCAN_HOME) .pytest_cache .mypy_cache .ruff_cache bench/work
