# The two commands a newcomer needs: `make run` (the all-in-one) and `make test` (everything CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install.stamp

.PHONY: install run test lint typecheck pytest devstack-up devstack-down cluster cluster-down bench-stack bench bench-relay bench-reminders bench-reminder-pipeline bench-pipeline bench-floor bench-cluster screenshots lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

run: install
	$(BIN)/todo up

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/hadolint --failure-threshold info Dockerfile
	scripts/devstack up shellcheck
	shellcheck -x scripts/devstack scripts/cluster scripts/cluster-lib/*.sh scripts/cluster-lib/images/*-node \
	  deploy/lib.sh deploy/*/*.sh
	scripts/devstack up tools
	env $$(scripts/devstack env) sh -c '"$$TODO_ACTIONLINT" -no-color .github/workflows/*.yml'

typecheck: install
	$(BIN)/mypy

devstack-up:
	scripts/devstack up postgres redis kafka kafka3 daprd chromium tools prometheus

devstack-down:
	scripts/devstack down

# The real deployment on this machine: a Kubernetes node built from source, Dapr, Kafka, PostgreSQL, Redis
# and our chart (scripts/cluster; needs root). It prints where the web UI and the API answer.
cluster:
	scripts/cluster all

cluster-down:
	scripts/cluster down

# The cluster comes up after the rest of the suite: its pods' load would otherwise slow the timing-bound
# fault tests beside them. The devstack's four Kafka brokers, idle but a tenth of a core between them, stop
# for the cluster's tests, which use the cluster's own.
pytest: install devstack-up
	env $$(scripts/devstack env) $(BIN)/pytest -m "not cluster"
	scripts/devstack stop kafka kafka3
	$(MAKE) cluster
	env $$(scripts/devstack env) $$(scripts/cluster env) $(BIN)/pytest -m cluster

test: lint typecheck pytest

# Benchmarks run beside only what they use: the three-broker cluster alone takes a fifth of a core.
bench-stack:
	scripts/devstack up postgres redis kafka daprd wrk
	scripts/devstack stop kafka3

bench: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/api_load.py

bench-relay: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/relay_drain.py

bench-reminders: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/reminder_timeliness.py

bench-reminder-pipeline: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/reminder_pipeline.py

bench-pipeline: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/event_pipeline.py

bench-floor: install bench-stack
	env $$(scripts/devstack env) $(BIN)/python bench/pipeline_floor.py

# The pipeline on the real cluster: bring it up first (make cluster)
bench-cluster: install
	env $$(scripts/cluster env) $(BIN)/python bench/cluster_pipeline.py

screenshots: install devstack-up
	env $$(scripts/devstack env) TODO_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/web/test_browser.py

lock:
	$(BIN)/uv pip compile --quiet --python $(BIN)/python pyproject.toml --extra dev -o requirements.lock
	$(BIN)/uv pip compile --quiet --python $(BIN)/python pyproject.toml --generate-hashes -o requirements.prod.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
