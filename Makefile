# One command per job: `make run`, `make test`, `make check`, `make lint`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
DB     ?= trailmark.db
# Two stamps: `make run` installs what running needs; the test extras and the Python SDK
# (which the tests drive) come with the first `make test` or `make lint`.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
JS     := collector/static/trailmark.js

.PHONY: run test test-py test-js build lint check bench chromium clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(RUN_STAMP) pyproject.toml sdk_python/pyproject.toml
	$(BIN)/pip install -q -e '.[test,clickhouse]' -e sdk_python
	touch $@

sdk_js/node_modules/.package-lock.json: sdk_js/package-lock.json
	cd sdk_js && npm ci --no-audit --no-fund --loglevel=error

$(JS): sdk_js/node_modules/.package-lock.json $(shell find sdk_js/src -type f) sdk_js/build.mjs
	cd sdk_js && npm run build --silent

# Everything a developer needs (the test set-up too); `make run` takes only its own part.
build: $(TEST_STAMP) $(JS)

chromium:
	@sh scripts/ensure_debian.sh chromium /usr/bin/chromium

run: $(RUN_STAMP) $(JS)
	$(BIN)/trailmark serve --demo --db $(DB) --port $(PORT)

test-js: build
	cd sdk_js && npm test --silent

test-py: build chromium
	$(BIN)/python -m pytest -q

test: test-js test-py

lint: $(TEST_STAMP)
	$(BIN)/ruff check collector tests e2e bench sdk_python scripts
	$(BIN)/mypy
	cd sdk_js && npm run typecheck --silent

# The quick loop: lint, types and the tests that need no browser and kill no server.
check: lint build
	$(BIN)/python -m pytest -q -m "not e2e and not slow" tests

bench: build chromium
	@sh scripts/ensure_debian.sh wrk /usr/bin/wrk
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) sdk_js/node_modules sdk_js/dist collector/static
