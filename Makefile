# huiqi — the two commands of the quick start, and the checks behind them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test setup lint bench clean

$(BIN)/huiqi: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/huiqi

## run: set up and run the main job (demo evaluation of the sample profiles against all seed policies)
run: setup
	$(BIN)/huiqi validate
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

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
