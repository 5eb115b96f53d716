# huiqi — the two commands of the quick start, and the checks behind them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test setup setup-dev lint bench clean

# Two stamps: running needs the runtime only (`pip install -e .`, no Spark, no test tools); the checks
# need the dev extra (pytest, ruff, mypy, pyspark …). Either rebuilds when pyproject.toml or setup.py changes.
$(VENV)/.runtime: pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: pyproject.toml setup.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.runtime

## setup: the runtime alone (what `make run` and `make demo` need)
setup: $(VENV)/.runtime

## setup-dev: the runtime and the dev extra (what `make test` and `make bench` need)
setup-dev: $(VENV)/.dev

## run: set up and run the main job: check the policy base, show a demo evaluation, then start the service
## on SQLite (huiqi.db) with the seed policies and demo data: the web application at http://127.0.0.1:8000/
## (policy library, calculator, 公示), the API at /api/v1 (Ctrl-C stops it)
run: setup
	$(BIN)/huiqi validate
	$(BIN)/huiqi demo
	$(BIN)/huiqi serve

## demo: the demo evaluation alone (sample profiles × all documents, printed as tables)
demo: setup
	$(BIN)/huiqi demo

## test: set up and run every check: lint, types, policy validation, the test suite
test: setup-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/huiqi validate
	$(BIN)/pytest

bench: setup-dev
	$(BIN)/python bench/evaluate_one.py
	$(BIN)/python bench/population.py --n 1000000 --spark 100000
	$(BIN)/python bench/platform_load.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
