# Prakerja Portal. `make run` and `make test` work on a fresh clone with only
# Python 3.11 and make: the virtualenv and every dependency come from uv.lock.

PYTHON ?= python3.11
UV_VERSION := 0.9.30
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PAYOUT_SIMULATOR_PORT ?= 8765
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: install run test lint format messages worker beat gunicorn clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

install: $(VENV)/.installed
	$(PY) manage.py compile_translations

# Links in emails and SMS point at the server this starts (another PORT included).
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: export PAYOUT_SIMULATOR_URL ?= http://127.0.0.1:$(PAYOUT_SIMULATOR_PORT)
run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py load_demo
	@echo
	@echo "Prakerja Portal: http://$(HOST):$(PORT)/   officer console: http://$(HOST):$(PORT)/admin/"
	@# Periodic jobs: beat runs beside the server; with no REDIS_URL each job runs inside beat.
	@# The payment partner simulator (README "Payment partners") runs beside them; the demo partners use it.
	@$(VENV)/bin/celery -A prakerja beat --loglevel WARNING --schedule var/celerybeat-schedule & beat=$$!; \
	$(PY) manage.py payout_simulator --port $(PAYOUT_SIMULATOR_PORT) & sim=$$!; \
	trap 'kill $$beat $$sim 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS); \
	status=$$?; if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs GNU gettext (xgettext/msgmerge); only for editing translations.
messages: install
	$(PY) manage.py makemessages -l id --no-obsolete --ignore=.venv --ignore=.tools --ignore=var \
		--ignore=registration --ignore=kyc --ignore=cohorts --ignore=marketplace --ignore=disbursement \
		--ignore=surveys --ignore=oversight --ignore=tests --ignore=bench
	for app in registration kyc cohorts marketplace disbursement surveys oversight; do \
		(cd $$app && ../$(PY) ../manage.py makemessages -l id --no-obsolete) || exit 1; done

worker: install
	$(VENV)/bin/celery -A prakerja worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A prakerja beat --loglevel=INFO --schedule=var/celerybeat-schedule

gunicorn: install
	$(VENV)/bin/gunicorn prakerja.wsgi -c prakerja/gunicorn_conf.py --bind $(HOST):$(PORT) --access-logfile -

clean:
	rm -rf $(VENV) $(TOOLS) var
