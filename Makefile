# The single entry point: CI (.ci/run), developers and the README all use these targets.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TASKS  ?= tasks
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run run-headless test test-fast test-deep lint bench screenshot clean

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install tui-sched with its dev tools

run: $(STAMP) ## Start tui-sched on the example tasks/
	$(BIN)/tui-sched $(TASKS)

run-headless: $(STAMP) ## Run the example tasks/ headless (log lines to stdout)
	$(BIN)/tui-sched run $(TASKS)

test: $(STAMP) ## Install and run every test
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## Skip the slow real-time tests
	$(BIN)/python -m pytest -q -m "not slow"

test-deep: $(STAMP) ## The engine against its reference model, 4,000 random examples (~15-20 min)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest -q -p no:cacheprovider tests/differential

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check tui_sched tests
	$(BIN)/mypy

BENCH_ARGS ?= --repeat 3

bench: $(STAMP) ## Benchmarks, medians of 3 (~25 min; BENCH_ARGS= for one pass, --quick for a smoke run)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py $(BENCH_ARGS)

screenshot: $(STAMP) ## Regenerate docs/screenshot.svg, the README's picture of the UI on tasks/
	TUI_SCHED_SCREENSHOT=docs/screenshot.svg $(BIN)/python -m pytest -q -p no:cacheprovider tests/tui/test_screenshot.py

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
