# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format protos bench setup browser clean

setup: $(STAMP)

# Re-install only when the dependencies change; the second run is instant.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: setup
	@$(VENV)/bin/portal run

test: setup browser lint
	@$(PY) -m pytest -q

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded).
browser:
	@deploy/ensure-chromium.sh

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check --quiet . || (echo "run 'make format'"; exit 1)
	@$(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/mypy

format: setup
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

protos: setup
	@$(PY) -m deploy.protos

bench: setup
	@$(PY) -m bench.run

clean:
	rm -rf $(VENV) .data
