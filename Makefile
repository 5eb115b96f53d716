# huiqi — the two commands of the quick start, and the checks behind them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test setup lint bench clean

$(BIN)/huiqi: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/huiqi

## run: set up and run the main job: check the policy base, show a demo evaluation, then start the service
## on SQLite (huiqi.db) with the seed policies and demo data at http://127.0.0.1:8000/api/v1 (Ctrl-C stops it)
run: setup
	$(BIN)/huiqi validate
	$(BIN)/huiqi demo
	$(BIN)/huiqi serve

## demo: the demo evaluation alone (sample profiles × all documents, printed as tables)
demo: setup
	$(BIN)/huiqi demo

## test: set up and run every check: lint, types, policy validation, the test suite
test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/huiqi validate
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/evaluate_one.py
	$(BIN)/python bench/population.py --n 1000000 --spark 100000
	$(BIN)/python bench/platform_load.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
