# The two commands a newcomer runs are `make demo` and `make test`; each sets up only
# what it needs, in one virtualenv (.venv) with the locked dependencies:
#   make demo                      the runtime dependencies and the stack's Debian packages
#   make test, check, bench, lint, format
#                                  also the dev and bench extras; test and bench also the
#                                  test tools (wrk, hyperfine, kubectl, checkov, promtool)
# One stamp per layer: `make demo` after `make test` installs nothing, and `make test`
# after `make demo` adds only what is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
# constraints.txt pins every package, so pip never backtracks. The venv's own pip does
# the job: upgrading it first cost a download and saved no measurable time.
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --constraint constraints.txt

.DEFAULT_GOAL := help
.PHONY: help demo-tools tools demo test check lint format bench lock clean node-up node-down

help:
	@echo "make demo    bring the local stack up and show a real alert fire and resolve"
	@echo "             (installs the runtime dependencies and the stack's Debian packages)"
	@echo "make test    run the test suite (installs also the dev extras and the test tools)"
	@echo "make check   lint, format check, type check and tests"
	@echo "make bench   run the benchmarks (results in bench/README.md)"
	@echo "make lock    re-resolve constraints.txt from pyproject.toml"
	@echo "make node-up    (root) a real one-node Kubernetes cluster on this machine, no Docker;"
	@echo "                builds what is missing, waits until Ready, prints its kubeconfig last"
	@echo "make node-down  (root) stop it and remove all it made; fails naming any leftover"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sreshow needs Python >= 3.11; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# The demo's layer: sreshow and its runtime dependencies, no dev or bench extras.
$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) --editable .
	@touch $@

# The tests' layer: everything in one pip run (a fresh `make test` installs once), so the
# runtime layer comes with it.
$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) --editable '.[dev,bench]'
	@touch $@ $(RUNTIME_STAMP)

# External tools (scripts/install-tools.sh), idempotent and quick when everything is
# there. Without root a missing Debian package is only named: `sreshow up` then says what
# it lacks, and the tests that need a missing tool are skipped (CI fails them).
demo-tools:
	@scripts/install-tools.sh demo || echo "make: continuing without some tools; sreshow up names any the stack still lacks"

tools:
	@scripts/install-tools.sh test || echo "make: continuing without some tools; the tests that need them will be skipped"

demo: $(RUNTIME_STAMP) demo-tools
	@$(BIN)/python scripts/demo.py

test: $(DEV_STAMP) tools
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV_STAMP) tools
	$(BIN)/python bench/run.py

lock:
	rm -rf /tmp/sreshow-lock && $(PYTHON) -m venv /tmp/sreshow-lock
	/tmp/sreshow-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/sreshow-lock/bin/python -m pip install --quiet --editable '.[dev,bench]'
	{ echo "# Exact versions for reproducible installs: pip install -c constraints.txt -e '.[dev,bench]'"; \
	  echo "# Regenerate with: make lock"; \
	  /tmp/sreshow-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf /tmp/sreshow-lock

# The one-node cluster (scripts/node/node.py; needs root, which it says if missing). The
# first node-up builds Kubernetes, Prometheus and the add-ons (CoreDNS, metrics-server)
# from the Go module proxy, the app image and the monitoring and add-on images (minutes;
# cached in ~/.cache/sreshow/node and ~/.cache/sreshow/tools); then it starts in well
# under a minute, with cluster DNS and `kubectl top` working. Its last line of
# output is the kubeconfig's path: KUBECONFIG=$(make -s node-up | tail -n 1). Deploy the
# shipped manifests on it through manifests/overlays/node (the local images' names).
node-up:
	@$(PYTHON) scripts/node/node.py up

node-down:
	@$(PYTHON) scripts/node/node.py down

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
