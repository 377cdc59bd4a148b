# cityloop — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck contracts unit docs serve migrate seed clean

$(VENV)/.runtime-stamp: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-stamp: requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.runtime-stamp

## run: install, migrate var/cityloop.db, load the demo city once, serve http://$(HOST):$(PORT)
run: $(VENV)/.runtime-stamp
	$(BIN)/cityloop migrate
	$(BIN)/cityloop seed
	$(BIN)/cityloop demo
	@echo "serving http://$(HOST):$(PORT): sign in with a login above (password cityloop-demo); API docs at /api/v1/docs"
	$(BIN)/cityloop serve --host $(HOST) --port $(PORT)

## test: lint, type-check, layer contracts, then the whole suite
test: $(VENV)/.dev-stamp lint typecheck contracts
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-stamp
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(VENV)/.dev-stamp
	$(BIN)/mypy

contracts: $(VENV)/.dev-stamp
	$(BIN)/lint-imports

## docs: regenerate docs/case-lifecycle.md from the transition table
docs: $(VENV)/.runtime-stamp
	$(BIN)/cityloop docs lifecycle --output docs/case-lifecycle.md

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
