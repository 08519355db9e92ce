# The portal's two commands: `make up` (serve it with demo data) and `make test` (the whole suite
# against real services). Ports live in config/stack.env; runtime state in .run/ (RUN_DIR).
SHELL := /bin/bash

VENV := .venv
PY := $(VENV)/bin/python
RUN_DIR ?= $(CURDIR)/.run
export RUN_DIR
TEST_INI := $(RUN_DIR)/etc/test/test.ini
SOLR_JAR := config/solr/server/target/yantai-solr.jar
SOLR_SRC := config/solr/server/pom.xml $(shell find config/solr/server/src -type f)
ASSETS := ckanext-yantai/ckanext/yantai/assets
ASSETS_STAMP := $(ASSETS)/node_modules/.installed

.PHONY: up down reset test test-fast lint bench status deps system-packages

up: deps ## set up everything and serve the portal with demo data (http://127.0.0.1:5000)
	$(PY) scripts/stack.py up

# `make test` runs the suite on TEST_WORKERS pytest-xdist workers, each on a test stack of its own
# (the first on this one, the others under $(RUN_DIR)/workers/), a module's tests on one worker.
TEST_WORKERS ?= 2

test: deps lint ## run the whole test suite against real PostgreSQL, Redis and Solr (own database and core)
	$(PY) scripts/stack.py test-env --workers $(TEST_WORKERS)
	$(VENV)/bin/pytest --ckan-ini=$(TEST_INI) -n $(TEST_WORKERS) --dist loadgroup \
		--no-loadscope-reorder $(PYTEST_ARGS)

test-fast: deps ## only the tests of pure rules (marked pure: no plugins, no database work), in seconds
	$(PY) scripts/stack.py test-env
	$(VENV)/bin/pytest --ckan-ini=$(TEST_INI) -m pure -q $(PYTEST_ARGS)

lint: $(VENV)/.installed ## check style (ruff) and types (pyright) with pyproject.toml's settings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pyright --pythonpath $(PY)

bench: deps ## run the benchmarks of bench/ against the test profile's services
	$(PY) scripts/stack.py test-env
	$(PY) bench/compliance_recheck.py --ini $(TEST_INI) $(BENCH_ARGS)
	$(PY) bench/credit_search.py --ini $(TEST_INI)
	$(PY) bench/harvest_rate.py --ini $(TEST_INI)
	$(PY) bench/datastore_load.py --ini $(TEST_INI)

down: ## stop everything the project started
	@if [ -x $(PY) ]; then $(PY) scripts/stack.py down; fi

reset: ## stop and wipe all runtime state (.run/)
	@if [ -x $(PY) ]; then $(PY) scripts/stack.py reset; else rm -rf $(RUN_DIR); fi

status:
	@$(PY) scripts/stack.py status

deps: system-packages $(VENV)/.installed $(SOLR_JAR) $(ASSETS_STAMP)

system-packages:
	@scripts/bootstrap.sh system

$(VENV)/.installed: requirements.txt requirements-dev.txt setup.py pyproject.toml
	@scripts/bootstrap.sh python
	@touch $@

$(SOLR_JAR): $(SOLR_SRC)
	@scripts/bootstrap.sh solr
	@touch $@

$(ASSETS_STAMP): $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@scripts/bootstrap.sh assets
	@touch $@
