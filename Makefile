# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed
AXE_STAMP := tests/e2e/node_modules/.installed

.PHONY: run serve test lint install init bench clean translations extract update

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations $(AXE_STAMP)

# axe-core for the browser tests (tests/e2e), from its lockfile. Without npm those tests
# skip (outside CI), saying so.
$(AXE_STAMP): tests/e2e/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
	  echo "npm is missing: the browser tests (tests/e2e) will skip (apt-get install npm)"; \
	fi

# The compiled catalogues (.mo) are built here, never committed (.gitignore).
CATALOGUES := vault/translations
translations: $(STAMP)
	$(BIN)/pybabel compile -d $(CATALOGUES) --statistics

# For developers: collect the marked strings, then merge them into the nl and fr catalogues.
extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
	  --project vault -o $(CATALOGUES)/messages.pot .

update: extract
	$(BIN)/pybabel update -i $(CATALOGUES)/messages.pot -d $(CATALOGUES) --no-fuzzy-matching

init: install
	$(BIN)/vault init

# Links mailed to candidates follow the port served, unless VAULT_PUBLIC_BASE_URL says otherwise.
BASE_URL = $${VAULT_PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}

# A local demo on plain HTTP: cookies without the Secure flag, everything else as in production.
run: init
	VAULT_HTTPS=false VAULT_PUBLIC_BASE_URL=$(BASE_URL) \
	  $(BIN)/flask --app wsgi run --host 127.0.0.1 --port $(PORT)

# Production settings under gunicorn (gunicorn.conf.py), on 127.0.0.1:$(PORT), for a
# reverse proxy with TLS in front (deploy/); the same set-up as `make run` first.
serve: init
	PORT=$(PORT) VAULT_PUBLIC_BASE_URL=$(BASE_URL) exec $(BIN)/gunicorn -c gunicorn.conf.py

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python benchmarks/crypto_bench.py

clean:
	rm -rf $(VENV) .pytest_cache tests/e2e/node_modules tests/e2e/screenshots
