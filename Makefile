# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# Every venv (ours, Meltano's, each plugin's) is installed with its bytecode compiled: where
# PYTHONDONTWRITEBYTECODE is set, as in many images and CI machines, Python never caches it,
# and each process would compile Meltano, Dagster and the SDK from source as it starts.
export UV_COMPILE_BYTECODE := 1
# Our own packages, compiled before the suite for the same reason.
PACKAGES := $(patsubst %/__init__.py,%,$(wildcard */__init__.py))

.PHONY: install constraints meltano demo test lint typecheck unit docs bench clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# Exactly the versions in uv.lock (`--inexact` keeps uv itself in the venv).
$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --locked --inexact --extra dev \
		--python $(BIN)/python
	touch $(STAMP)

install: $(STAMP)

# Meltano installs the connectors into venvs of its own; constraints.txt pins them to the
# same versions as uv.lock (tests/test_packaging.py checks the two agree).
constraints: | $(BIN)/uv
	$(BIN)/uv export --quiet --locked --no-hashes --no-emit-project --no-header \
		-o constraints.txt

# Meltano has its own venv (it installs each plugin into .meltano/ itself, with uv).
MELTANO_VENV := $(VENV)/meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := .meltano/.installed-plugins
# The S3 extra serves the S3 state backend (docs/orchestration.md). The stamp names the spec,
# so an existing Meltano venv is brought up to a changed one.
MELTANO_SPEC := meltano[s3]==4.4.1
MELTANO_READY := $(MELTANO_VENV)/.installed-$(subst [,-,$(subst ],,$(subst ==,-,$(MELTANO_SPEC))))

$(MELTANO_READY): | $(BIN)/uv
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(MELTANO_VENV)
	$(BIN)/uv pip install --quiet --python $(MELTANO_VENV)/bin/python '$(MELTANO_SPEC)' uv
	touch $@

$(MELTANO): $(MELTANO_READY)

$(MELTANO_STAMP): meltano.yml pyproject.toml constraints.txt | $(MELTANO_READY) $(STAMP)
	$(MELTANO) install
	touch $@

meltano: $(MELTANO_STAMP)

demo: install meltano
	$(BIN)/python -m scripts.demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The suite mostly waits on loopback servers, so two workers (one per CI core) halve it;
# tests that share a session fixture stay on one worker (`xdist_group`). The slowest tests
# are listed at the end, to keep the suite within its time budget.
PYTEST_WORKERS ?= 2
unit: install meltano
	$(BIN)/python -m compileall -q $(PACKAGES)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15

test: lint typecheck unit

# Everything derived from the connectors' own settings: meltano.yml, hub/ and docs/ tables.
docs: install
	$(BIN)/python -m scripts.meltano_settings
	$(BIN)/python -m scripts.readme_about

# Benchmarks print figures; benchmarks/*.md record them with the machine they ran on.
bench: install meltano
	$(BIN)/python -m benchmarks.sandbox_throughput
	$(BIN)/python -m benchmarks.tap_popl --leads 100000
	$(BIN)/python -m benchmarks.tap_wisepops --rounds 2
	$(BIN)/python -m benchmarks.target_ghl
	$(BIN)/python -m benchmarks.faults
	$(BIN)/python -m benchmarks.relay_latency
	$(BIN)/python -m benchmarks.popin_events --events 1000 --rate 50
	$(BIN)/python -m benchmarks.tap_ghl
	$(BIN)/python -m benchmarks.orchestration_overhead

clean:
	rm -rf $(VENV) .meltano .mypy_cache .ruff_cache .pytest_cache output .sandbox-data
