# The README's commands. Each target does its own set-up: nothing is installed by hand.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)
export DAGSTER_HOME ?= $(CURDIR)/.dagster
export HARMONY_HOME ?= data

.PHONY: setup demo test lint ui bench bench-1m clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $@

setup: $(STAMP)
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/harmony prepare

demo: setup
	HARMONY_DEMO=1 $(BIN)/harmony demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/dagster definitions validate -w workspace.yaml
	bash scripts/install-browser.sh
	$(BIN)/pytest

ui: setup
	HARMONY_DEMO=1 $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

bench: setup
	HARMONY_DEMO=1 $(BIN)/harmony bench --patients 10000 --patients 100000

bench-1m: setup
	HARMONY_DEMO=1 $(BIN)/harmony bench --patients 10000 --patients 100000 --patients 1000000

clean:
	rm -rf data .dagster dbt_project/target dbt_project/logs
