# pullmedic — developer entry points. Every target sets itself up from a clean clone.
SHELL := /bin/bash
# Lambda runs Python 3.12: use it locally when it is installed, else the default python3.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python3.12) $(shell command -v python3.12) python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# eks-token (and the awscli it drags in) lives apart: tests compare our token with its token.
EKSTOKEN_STAMP := .venv-ekstoken/.installed

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml tests/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c tests/constraints.txt -e '.[sandbox,dev]'
	touch $@

$(EKSTOKEN_STAMP):
	test -x .venv-ekstoken/bin/python || $(PYTHON) -m venv .venv-ekstoken
	.venv-ekstoken/bin/python -m pip install --quiet --disable-pip-version-check eks-token==0.3.0
	touch $@

demo: $(STAMP)
	$(BIN)/pullmedic demo

test: $(STAMP) $(EKSTOKEN_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check layers functions tests

clean:
	rm -rf $(VENV) .venv-ekstoken .pytest_cache
