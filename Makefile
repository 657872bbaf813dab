# Every entry point of the project. `make local` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk

# The CDK CLI must never reach the internet from here: no notices, no telemetry, no version check.
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
CDK_FLAGS := --no-notices --ci

.PHONY: help install lint format test synth snapshot-update local load redrive bench diagram clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed ## create .venv and install the pinned tools

lint: install ## ruff (lint and format check) and mypy
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install ## rewrite files with the project's formatter
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

synth: install ## synthesize every stack offline into cdk.out, with cdk-nag checks
	$(CDK) synth $(CDK_FLAGS) --quiet --strict '**'
	$(VENV)/bin/cfn-lint

test: install lint synth ## install, lint, synthesize, then run the whole test suite
	REFUNDS_CDK_OUT=cdk.out $(PY) -m pytest -n 2 --dist worksteal

local: install synth ## run the whole system on this machine: API on 127.0.0.1:3000, moto on :4566
	$(PY) -m local

load: install synth ## spike the local system with faults on, then prove nothing was lost (REQUESTS=2000 CONCURRENCY=50)
	$(PY) -m reliability.load $(if $(REQUESTS),--requests $(REQUESTS)) \
		$(if $(CONCURRENCY),--concurrency $(CONCURRENCY)) \
		$(if $(GATEWAY_TIMEOUT_RATE),--gateway-timeout-rate $(GATEWAY_TIMEOUT_RATE)) \
		$(if $(PROCESSOR_CRASH_RATE),--processor-crash-rate $(PROCESSOR_CRASH_RATE))

# A deployed stage is redriven only when STAGE is given on the command line, never from the shell.
redrive: install ## move DLQ messages back to the refund queue of make local (STAGE=Dev for a deployed stage, DRY_RUN=1 to list)
	$(PY) -m reliability.redrive $(if $(filter command line,$(origin STAGE)),--stage $(STAGE)) \
		$(if $(DRY_RUN),--dry-run)

bench: install synth ## every figure against its baseline, measured in the same run
	$(PY) -m bench

snapshot-update: install ## refresh the template snapshots after an intended change
	$(PY) -m pytest tests/infrastructure --snapshot-update

diagram: install ## render docs/architecture.svg from docs/architecture.d2, offline
	$(VENV)/bin/d2 --layout=dagre docs/architecture.d2 docs/architecture.svg

clean: ## remove build output (keeps the installed tools)
	rm -rf cdk.out .pytest_cache .ruff_cache .mypy_cache .local
