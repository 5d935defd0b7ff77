# pullmedic — developer entry points. Every target sets itself up from a clean clone.
SHELL := /bin/bash
# Lambda runs Python 3.12: use it locally when it is installed, else the default python3.
PYTHON ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python3.12) $(shell command -v python3.12) python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# eks-token (and the awscli it drags in) lives apart: tests compare our token with its token.
EKSTOKEN_STAMP := .venv-ekstoken/.installed

.PHONY: setup demo test test-fast lint clean

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

# Two workers (the machine's two cores); a module's tests stay on one worker (module fixtures).
test: $(STAMP) $(EKSTOKEN_STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# The edit-test loop: unit tests and a few end-to-end smoke tests (`make test` runs everything).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests/unit tests/functional/test_handler.py \
	  tests/functional/test_state_store.py tests/functional/test_incomplete_reads.py

# Style, types (mypy --strict, configured in pyproject.toml) and the complexity gate (radon: no
# function above 15; the same check runs in `make test` as tests/unit/test_complexity.py).
lint: $(STAMP)
	$(BIN)/ruff check layers functions tests
	$(BIN)/python -m mypy
	$(BIN)/python tests/unit/test_complexity.py

clean:
	rm -rf $(VENV) .venv-ekstoken .pytest_cache

# --- Deployment: template, layer build, offline checks -----------------------------------------
# The SAM CLI pins its own boto3, so it lives in a venv of its own (with the cfn-lint it accepts).
SAM_VENV := .venv-sam
SAM_BIN := $(SAM_VENV)/bin
SAM_STAMP := $(SAM_VENV)/.installed
SAM_PINS := aws-sam-cli==1.170.0 cfn-lint==1.58.0
# Any Region will do for the offline checks; nothing is called in it.
CHECK_REGION := us-east-2
export SAM_CLI_TELEMETRY := 0

.PHONY: deploy-check deploy clean-deploy

$(SAM_STAMP):
	test -x $(SAM_BIN)/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_BIN)/python -m pip install --quiet --disable-pip-version-check $(SAM_PINS)
	touch $@

# tests/deploy runs the same checks (and more) as part of `make test`; it also transforms the
# template with the SAM translator of this venv (it needs a pydantic older than .venv's).
test: $(SAM_STAMP)

deploy-check: $(SAM_STAMP)
	$(SAM_BIN)/cfn-lint template.yaml
	$(SAM_BIN)/sam validate --lint --region $(CHECK_REGION)
	$(SAM_BIN)/sam build --region $(CHECK_REGION)
	@echo "built layer (unzipped): $$(du -sb .aws-sam/build/PullmedicLayer | awk '{printf "%.1f MB", $$1 / 1048576}')"

# A first deploy with three questions (e-mail, clusters, optional subnets); see docs/deploy.md.
deploy: $(SAM_STAMP)
	PATH="$(CURDIR)/$(SAM_BIN):$$PATH" $(SAM_BIN)/python functions/scan/deploy.py $(if $(REGION),--region $(REGION))

clean: clean-deploy

clean-deploy:
	rm -rf $(SAM_VENV) .aws-sam

# --- Security policy check: checkov over both templates (tests/deploy runs it) ---------------
# checkov pins its own dependencies (boto3, pydantic...), so it gets a venv of its own too.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV_PINS := checkov==3.3.30

.PHONY: checkov clean-checkov

$(CHECKOV_STAMP):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(CHECKOV_PINS)
	touch $@

test: $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	  --file template.yaml --file functions/scan/member-account.yaml

clean: clean-checkov

clean-checkov:
	rm -rf $(CHECKOV_VENV)

# --- Performance: large sandbox worlds against the scan's budgets, every regular expression on
# hostile input, hostile pods (a reduced run of the request and memory budgets is part of
# `make test`: tests/perf/test_bench_budgets.py) ---------------------------------------------
.PHONY: bench bench-check

# BENCH_ARGS, e.g. --modes localhost --worlds 1k,10k --repeat 1 (see tests/perf/bench.py --help)
bench: $(STAMP)
	status=0; $(BIN)/python tests/perf/bench.py $(BENCH_ARGS) || status=1; \
	$(BIN)/python tests/perf/regex_bench.py || status=1; \
	$(BIN)/python tests/perf/hostile_bench.py || status=1; exit $$status

# Does bench/results.json hold the figures of the code as it is here? (exit 1 if not)
bench-check: $(STAMP)
	$(BIN)/python tests/perf/bench.py --check

# --- Step Functions definition check (tests/deploy runs it; npm is needed once) ---------------
NPM_TOOLS := .npm-tools
ASL_VALIDATOR_STAMP := $(NPM_TOOLS)/.installed

$(ASL_VALIDATOR_STAMP):
	npm install --no-audit --no-fund --prefix $(NPM_TOOLS) asl-validator@4.0.0
	touch $@

test: $(ASL_VALIDATOR_STAMP)

clean: clean-npm-tools

.PHONY: clean-npm-tools
clean-npm-tools:
	rm -rf $(NPM_TOOLS)
