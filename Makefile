# One command each: `make demo`, `make test`, `make bench`, `make help`.
# Needs only Python 3.11 and make: everything else is installed, at the locked
# versions of uv.lock, into .venv on first use.

PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
UV := .uv/bin/uv
SYNCED := $(VENV)/.synced
CHROMIUM := /usr/bin/chromium
export UV_PYTHON_DOWNLOADS := never

.DEFAULT_GOAL := help
.PHONY: help setup demo loop notebooks test lint bench docs clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on these machines), every
# Python process (the tests start dozens: CLI runs, servers, kernels, Dask workers)
# would otherwise compile its imports again, about 10 s of CPU each.
$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(SYNCED) ## Create .venv with the locked dependencies

demo: setup ## Generate a sample world and run the pipeline on it
	$(VENV)/bin/advocacy demo

loop: setup ## After `make demo`: score with control groups, replay the send, evaluate its lift and ROI
	$(VENV)/bin/advocacy score --as-of 2026-07-02
	$(VENV)/bin/advocacy plan-outreach latest --out data/outreach-plan.parquet
	$(VENV)/bin/advocacy generate --outreach data/outreach-plan.parquet
	$(VENV)/bin/advocacy ingest
	$(VENV)/bin/advocacy evaluate-outreach latest

notebooks: setup ## Start JupyterLab on the project environment
	$(VENV)/bin/jupyter lab notebooks/

lint: setup ## Lint, format check and type check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The browser tests (web page, report) drive Debian's chromium; installed with apt when missing.
$(CHROMIUM):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

# Two pytest workers: much of the suite waits on the servers and commands it starts.
# Tests sharing a costly session fixture stay on one worker (tests/conftest.py).
test: lint $(CHROMIUM) ## Lint, type check and run the tests
	$(VENV)/bin/pytest -n 2 --dist loadgroup

bench: setup ## Time every stage at 100k and 1M customers (slow; see README)
	$(VENV)/bin/python -m benchmarks.bench_generate --customers 100000 1000000
	$(VENV)/bin/python -m benchmarks.bench_ingest --customers 100000 1000000
	$(VENV)/bin/python -m benchmarks.bench_features --customers 1000000 --training-customers 100000
	$(VENV)/bin/python -m benchmarks.bench_train --customers 100000
	$(VENV)/bin/python -m benchmarks.bench_score --customers 1000000 --model-customers 100000
	$(VENV)/bin/python -m benchmarks.bench_web --customers 1000000

docs: setup ## Regenerate the docs made from code (features/README.md, data contracts)
	$(VENV)/bin/python -m features.docs

clean: ## Remove the environment and everything generated under data/
	rm -rf $(VENV) .uv data/sample data/store data/bench
