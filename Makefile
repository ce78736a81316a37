# Two commands: `make run` serves the site with its worker; `make test` runs lint and the suite.
# With DATABASE_URL / REDIS_URL unset, both use an embedded PostgreSQL and Redis under var/.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Local development defaults; real environment variables (and .env) still win.
export DEBUG ?= true

.PHONY: run test chromium lint format install lock stop bench clean faults

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the lock files (every package pinned, with hashes), then the project
# itself without dependencies; a lock older than pyproject.toml's dependencies stops here.
$(VENV)/.installed-run: pyproject.toml requirements/run.txt | $(BIN)/python
	$(BIN)/python scripts/lock.py check
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements/test.txt | $(BIN)/python
	$(BIN)/python scripts/lock.py check
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed-run

# After changing the dependencies in pyproject.toml: rewrite requirements/*.txt (other pins
# stay; LOCK_ARGS=--upgrade moves every pin to its newest release), then commit them.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python scripts/lock.py update $(LOCK_ARGS)

install: $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/python manage.py standalone

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The browser first: a missing one is installed (or named) before anything else runs.
test: chromium lint
	CELERY_QUEUE=acme-test $(BIN)/python -m pytest $(PYTEST_ARGS)

chromium:
	@sh scripts/ensure-chromium

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Kill Redis, PostgreSQL and the worker mid-import on a scratch stack of their own and print
# how each import ended and how long the stack took to be ready (bench/faults.py).
faults: $(VENV)/.installed-test
	$(BIN)/python bench/faults.py $(FAULTS_ARGS)

# Stop the embedded PostgreSQL and Redis (they keep running between commands otherwise); the
# production settings, so that nothing is started just to be stopped.
stop: $(VENV)/.installed-run
	DJANGO_SETTINGS_MODULE=acme.settings $(BIN)/python manage.py embedded stop

clean: stop
	rm -rf var staticfiles
