# The two commands a new machine needs: `make run` (the whole platform, local defaults) and
# `make test` (the same set-up, then the whole test suite). Everything else is a building block.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PYTEST_ARGS ?=

.PHONY: help venv infra tools run stop test unit lint format bench status chaos

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	@echo "[make] installing uv (the Python package manager that reads uv.lock)"
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet --break-system-packages uv

venv: $(UV) ## create .venv and install exactly what uv.lock says
	@echo "[make] syncing $(VENV) from uv.lock"
	$(UV) sync --all-packages --locked --quiet

infra: ## install if missing and start RabbitMQ, FerretDB and mailpit on 127.0.0.1
	deploy/local/infra.sh up

tools: ## install if missing what the tests drive: a kustomize renderer, Debian's nginx, the AsyncAPI parser
	deploy/local/infra.sh tools

run: venv infra ## start the four services, load the demo data, print the URLs
	deploy/local/platform.sh up

stop: ## stop the services and the local infrastructure started by `make run`/`make test`
	-deploy/local/platform.sh down
	deploy/local/infra.sh down

status: ## what runs where
	deploy/local/infra.sh status
	deploy/local/platform.sh status

test: venv infra tools ## the whole test suite against the real broker, database and SMTP server
	$(VENV)/bin/pytest $(PYTEST_ARGS)

unit: venv ## the fast unit tests only (no infrastructure)
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

MYPY_PACKAGES := shared/src/portal_shared tools $(filter-out %.egg-info,$(wildcard services/*/src/*))

lint: venv ## ruff check, ruff format --check and mypy --strict on every package
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict $(MYPY_PACKAGES)

format: venv ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

comma := ,
bench: venv infra ## hot paths as ratios against baselines measured in the same run (BENCH=event_pipeline,catalog,... selects)
	$(VENV)/bin/python -m tests.bench $(subst $(comma), ,$(BENCH))

CHAOS_SECONDS ?= 600
chaos: venv infra ## the long seeded random fault schedule (CHAOS_SECONDS=600; CHAOS_SEED= replays one)
	CHAOS_SECONDS=$(CHAOS_SECONDS) $(VENV)/bin/pytest -s tests/chaos/cluster_scenarios/test_random_faults.py $(PYTEST_ARGS)
