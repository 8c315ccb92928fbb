# Two commands for a newcomer: `make run` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
export FLASK_APP := service

.PHONY: run test lint imports typecheck pytest install browser bench lock clean translations

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed, found " + sys.version.split()[0]' || exit 1
	$(PYTHON) -m venv $(VENV)

# Two stamps, reinstalled only when their pins or the project metadata change: `make run`
# needs the runtime pins alone; `make test` adds the test toolchain on top (pip skips
# what the runtime stamp already installed), so neither order installs anything twice.
$(VENV)/.installed-main: $(BIN)/python requirements/main.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/main.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-main requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download cannot work offline). Installed once, when we are allowed to.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core) >/dev/null \
	      || { echo "apt-get could not install chromium; install Debian's 'chromium' package by hand" >&2; exit 1; }; \
	  else \
	    echo "The browser tests need Chromium: install Debian's 'chromium' package (or set CHROMIUM_PATH)." >&2; exit 1; \
	  fi; }

run: $(VENV)/.installed-main
	$(BIN)/python -m devserver --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The boundaries between core, gateway and features ([tool.importlinter] in pyproject.toml).
imports: install
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# pytest exits 5 when it collects nothing: an empty run must never pass.
pytest: install browser
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

test: lint imports typecheck pytest

# Benchmarks (minutes, not part of make test): gunicorn + PostgreSQL + wrk on loopback,
# nginx as a caching proxy, Chromium for layout shift; writes bench/RESULTS.md. wrk comes from Debian when we may install it; otherwise
# the benchmarks fall back to a threaded Python client.
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's wrk for the benchmarks..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null \
	      || echo "Could not install wrk; using the Python load generator." >&2; \
	  else \
	    echo "wrk is not installed; using the Python load generator." >&2; \
	  fi; }
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's nginx-light for the caching-proxy benchmark..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null \
	      || { echo "apt-get could not install nginx-light; install Debian's nginx by hand" >&2; exit 1; }; \
	  else \
	    echo "The appeal benchmark needs nginx (Debian's nginx-light) for its caching proxy." >&2; exit 1; \
	  fi; }
	$(BIN)/python -m bench $(BENCH_ARGS)

# After changing a reader-facing string: extract it (babel.cfg), merge it into every
# language's .po, translate the new entries in translations/{de,fr}, then run this again
# to compile the .mo files, which are committed (a fresh clone runs without a build step).
translations: install
	$(BIN)/python -m scripts.translations update
	$(BIN)/python -m scripts.translations compile

# Re-pin every dependency after editing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements/main.txt pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
