# Support Center: `make run` serves the site, `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $@ $(VENV)/.installed-run

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --prefix tests/e2e --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the browser accessibility and naughty-strings tests will be skipped"; fi

run: $(VENV)/.installed-run
	KB_ENV=$${KB_ENV:-development} $(BIN)/kb init
	@# The worker sends mail (to the log without KB_MAIL_SERVER) and runs the SLA sweep beside the server.
	KB_ENV=$${KB_ENV:-development} $(BIN)/kb worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	KB_ENV=$${KB_ENV:-development} $(BIN)/kb run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-test $(if $(wildcard tests/e2e/package.json),tests/e2e/node_modules/.installed)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose"; exit 1; fi; exit $$rc

bench: $(VENV)/.installed-test
	@missed=""; for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || missed="$$missed $$script"; done; \
	if [ -n "$$missed" ]; then echo "== below target or failed:$$missed"; exit 1; fi

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet ruff
	$(BIN)/ruff check kb tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
