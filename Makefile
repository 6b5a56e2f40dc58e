# Thin entry points; the work is done by `python -m utils.cli` and pytest.
# `make lab` and `make test` are the two commands (README.md).
SHELL  := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.delab-installed
SF     ?=
DUMP   ?=
ROLLBACK ?=
FORCE  ?=
SUBMISSIONS ?=
PYTEST_ARGS ?=

.PHONY: help venv lab test up down status env seed demo labs grade progress bench lint lock check-aws check-wheels conformance conformance-probe

help:
	@echo "make lab     set everything up and serve JupyterLab on 127.0.0.1"
	@echo "make test    set everything up and run the whole test suite"
	@echo "make up | down | status | env | seed [SF=n|DUMP=file [FORCE=1]|ROLLBACK=1] | demo | labs | grade SUBMISSIONS=dir | progress | bench | lint"
	@echo "make check-aws | check-wheels    before real AWS: account, region, resources, prices | Glue job wheels"
	@echo "make conformance [SOURCE=dir] | conformance-probe    awswrangler's own tests | Trino probes, vs a fresh local cloud"

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: Python 3.11 or newer is needed; $(PYTHON) is older. Install python3.11 and run again." >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> Python environment ($(VENV), pinned in requirements.lock)" >&2
	@# uv (pinned in requirements.lock) installs the same pins ~10x faster than pip; pip is the fallback.
	@UV=$$(grep -E '^uv==' requirements.lock); \
	if $(PY) -m pip install -q --disable-pip-version-check "$$UV" >/dev/null 2>&1 && test -x $(VENV)/bin/uv; then \
	  $(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock >&2 && \
	  $(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e . >&2; \
	else \
	  $(PY) -m pip install -q --disable-pip-version-check -r requirements.lock >&2 && \
	  $(PY) -m pip install -q --disable-pip-version-check --no-deps -e . >&2; \
	fi
	@$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (delab)" >/dev/null
	@touch $@

venv: $(STAMP)

up: $(STAMP)
	@$(PY) -m utils.cli up

lab: $(STAMP)
	@$(PY) -m utils.cli lab

test: up
	@$(PY) -m utils.cli test $(PYTEST_ARGS)

down:
	@test -x $(PY) && $(PY) -m utils.cli down || echo "nothing to stop (no .venv)"

status: $(STAMP)
	@$(PY) -m utils.cli status

env: $(STAMP)
	@$(PY) -m utils.cli env

# Deletes the local cloud's stored state (only while it is stopped); asks for YES=1.
.PHONY: reset-cloud
reset-cloud: $(STAMP)
	@$(PY) -m utils.cloud reset $(if $(filter 1 yes,$(YES)),--yes,)

# Every load keeps the data it replaces: ROLLBACK=1 puts it back (run again to undo).
seed: $(STAMP)
	@$(PY) -m utils.cli seed $(if $(ROLLBACK),--rollback,$(if $(DUMP),--dump $(DUMP),$(if $(SF),--sf $(SF),)) $(if $(FORCE),--force,))

demo: up
	@$(PY) -m utils.cli demo

labs: up
	@$(PY) -m utils.cli labs

grade: up
	@$(PY) -m utils.cli grade $(SUBMISSIONS)

# The learner's exercises passed and quiz scores per lesson, from .delab/progress.jsonl (no services needed).
progress: $(STAMP)
	@$(PY) -m utils.cli progress

bench: up
	@for b in bench/*.py; do echo "==> $$b"; $(PY) $$b || exit 1; done

# awswrangler's own Athena/Glue/S3 Parquet tests against a cloud of their own (~10 min, not in
# `make test`); SOURCE = aws-sdk-pandas checkout at the installed tag (docs/architecture.md).
conformance: $(STAMP)
	@$(PY) tests/conformance/run.py $(if $(SOURCE),--source $(SOURCE),)

conformance-probe: $(STAMP)
	@$(PY) tests/conformance/probe.py

# Real AWS (README, "Running on real AWS"): read-only checks, nothing is created or billed.
check-aws: $(STAMP)
	@$(PY) -m utils.awscheck

check-wheels: $(STAMP)
	@$(PY) -m utils.etl.aws_wheels

lint: $(STAMP)
	@$(PY) -m ruff check utils tests bench

# Regenerate the full pin list from the current environment (after changing pyproject.toml).
lock: $(STAMP)
	@$(PY) -m pip install -q -e '.[dev]'
	@$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock
	@echo "requirements.lock updated"
