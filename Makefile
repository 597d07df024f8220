# grassroots: bootstrap and entry points.
# `make test` is what CI runs (.ci/run): it must work on a fresh clone of a new machine,
# so everything the project needs is installed from here, not by hand.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV   := .venv
PY     := $(VENV)/bin/python
# Setup reruns only when the dependencies or the asset list change.
STAMP  := $(VENV)/.stamp-setup
# apt-get needs root; the dev machines and CI are root already.
SUDO   := $(if $(filter 0,$(shell id -u)),,sudo)
# No pip self-update nagging in CI logs.
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup browsers main test bench lint clean

setup: $(STAMP)

# The machine's python3 is 3.11 and the project needs 3.12: take the first 3.12 found on
# PATH (pyenv shim, via .python-version), in pyenv's versions folder, or from pyenv itself,
# and check that it really runs (a shim with no matching version fails).
# The Solara asset cache goes last: solara-server must be installed to know where it lives.
$(STAMP): pyproject.toml scripts/populate_solara_cdn.sh
	@if [ ! -x $(PY) ]; then \
	    py=; \
	    for cand in "$$(command -v python3.12 || true)" \
	                $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 \
	                "$$(pyenv which python3.12 2>/dev/null || true)"; do \
	        if [ -x "$$cand" ] && "$$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then \
	            py=$$cand; break; \
	        fi; \
	    done; \
	    if [ -z "$$py" ]; then \
	        echo "make setup: Python 3.12 not found (tried python3.12 on PATH, ~/.pyenv/versions/3.12*, pyenv which)." >&2; \
	        echo "            Install it, e.g. 'pyenv install 3.12', then rerun." >&2; \
	        exit 1; \
	    fi; \
	    echo "make setup: creating $(VENV) with $$py"; \
	    "$$py" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --progress-bar off -e '.[dev]'
	bash scripts/populate_solara_cdn.sh $(VENV)
	@touch $@

# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download cannot reach its host from here).
browsers:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	    echo "make browsers: installing Debian chromium and chromium-driver"; \
	    $(SUDO) apt-get update -qq; \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq -o Dpkg::Use-Pty=0 \
	        chromium chromium-driver >/dev/null; \
	fi

# The headline experiment: a quick strategy sweep and its report.
main: setup
	$(VENV)/bin/grassroots sweep experiments/strategy_comparison.toml --quick --resume \
	    --out results/strategy_comparison
	$(VENV)/bin/grassroots report results/strategy_comparison

# Lint first: it is seconds, the suite is minutes. pytest options live in pyproject.toml.
test: setup browsers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sim agents
	$(PY) -m pytest

bench: setup
	$(PY) benchmarks/run.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sim agents

# Caches and the venv only: results/ holds experiment output and is never removed here.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
