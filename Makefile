# Two commands do all the set-up: `make audit` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= reports/demo

.PHONY: audit test test-fast test-spark lint docs bench lab clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

# The local Phoenix and MLflow servers that tests/test_pull.py starts (extra `servers`; heavy, so not in `dev`).
$(VENV)/.installed-servers: pyproject.toml | $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e ".[dev,servers]"
	touch $@

# `--engine spark` and tests/test_spark.py (extra `spark`: pyspark bundles its jars; Java 17 from the system).
$(VENV)/.installed-spark: pyproject.toml | $(VENV)/.installed-dev
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	touch $@

audit: $(VENV)/.installed
	$(BIN)/agentops-audit demo --out $(OUT)

# On every core: each demo pipeline and each module's fixtures are built in one worker (tests/conftest.py).
test: $(VENV)/.installed-dev $(VENV)/.installed-servers
	$(BIN)/python -m pytest -m "not spark" -n auto --dist loadgroup

# The fast tier for the edit loop (under 90 s): no demo pipeline, no server, no browser (markers in tests/conftest.py).
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow and not browser and not spark" -q

# The Spark parity tests (tests/test_spark.py: a local Spark session, minutes on 2 cores): `.ci/run` runs them
# after `make test`; they need Java 17 (Debian: openjdk-17-jre-headless).
test-spark: $(VENV)/.installed-spark
	$(BIN)/python -m pytest -m spark

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The README's check tables, from the @check declarations (tests/test_docs.py fails until they are as generated).
docs: $(VENV)/.installed-dev
	$(BIN)/python -m agentops_audit.readme README.md

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py

# The demo database `make lab` explores; `make audit` always rebuilds it.
$(OUT)/audit.duckdb: | $(VENV)/.installed
	$(BIN)/agentops-audit demo --out $(OUT)

# JupyterLab in the venv on the operator notebook, pointed at the demo database (or at AGENTOPS_AUDIT_DB).
# Extra JupyterLab options go in LAB_ARGS, e.g. `make lab LAB_ARGS="--no-browser"` on a server. As root (as in
# many containers) JupyterLab refuses to start without --allow-root, so root gets it (LAB_ROOT).
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(VENV)/.installed $(OUT)/audit.duckdb
	AGENTOPS_AUDIT_DB="$${AGENTOPS_AUDIT_DB:-$(abspath $(OUT))/audit.duckdb}" \
		$(BIN)/jupyter lab notebooks/explore.ipynb $(LAB_ROOT) $(LAB_ARGS)

clean:
	rm -rf $(VENV) reports/demo .pytest_cache
