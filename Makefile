# pshub: `make demo` runs the hub end to end on embedded defaults; `make test` runs the test suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install demo test bench soak clean-data stop

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "pshub needs Python 3.11+; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)  ## create .venv and install pshub with pinned dependencies

DYNAMICS ?= UK
CRM ?=
PSA ?=
demo: $(STAMP)  ## run one hub cycle against the sandbox on the embedded warehouse (UK in Dynamics 365 Finance; DYNAMICS= for NetSuite only; CRM=hubspot for HubSpot; PSA=certinia for Certinia)
	$(BIN)/pshub demo $(if $(DYNAMICS),--dynamics $(DYNAMICS)) $(if $(CRM),--crm $(CRM)) $(if $(PSA),--psa $(PSA))

TEST_WORKERS ?= 2

test: $(STAMP)  ## run the test suite (embedded PostgreSQL + sandbox over loopback HTTP), TEST_WORKERS=2 at once
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

bench: $(STAMP)  ## run the benchmarks under bench/
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

soak: $(STAMP)  ## exactly once under lost responses: 20 killed-and-rerun trials of each financial and create sync
	PSHUB_TEST_KILL_TRIALS=20 $(BIN)/python -m pytest tests/sync/test_exactly_once.py -k lost_responses

stop: $(STAMP)  ## stop the embedded warehouse
	$(BIN)/pshub db stop
