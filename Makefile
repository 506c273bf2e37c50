# The two commands a newcomer runs are `make demo` and `make test`; each sets up
# what it needs (a virtualenv in .venv with the locked dependencies).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help tools demo test check lint format bench lock clean

help:
	@echo "make demo    bring the local stack up and show a real alert fire and resolve"
	@echo "make test    run the test suite"
	@echo "make check   lint, format check, type check and tests"
	@echo "make bench   run the benchmarks (results in bench/README.md)"
	@echo "make lock    re-resolve constraints.txt from pyproject.toml"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sreshow needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev,bench]'
	@touch $@

# External tools (Debian packages, pinned kubectl and checkov); idempotent and quick
# when everything is there. Without root, tiers that need a missing tool are skipped.
tools:
	@scripts/install-tools.sh || echo "make: continuing without some tools; the tests that need them will be skipped"

demo: $(STAMP) tools
	@$(BIN)/python scripts/demo.py

test: $(STAMP) tools
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) tools
	$(BIN)/python bench/run.py

lock:
	rm -rf /tmp/sreshow-lock && $(PYTHON) -m venv /tmp/sreshow-lock
	/tmp/sreshow-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/sreshow-lock/bin/python -m pip install --quiet --editable '.[dev,bench]'
	{ echo "# Exact versions for reproducible installs: pip install -c constraints.txt -e '.[dev,bench]'"; \
	  echo "# Regenerate with: make lock"; \
	  /tmp/sreshow-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf /tmp/sreshow-lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
