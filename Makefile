# Both entry points create their own virtual environments, so a fresh clone needs
# only Python 3.11+ and make. uv lives in its own venv (.tools) so that `uv sync`
# can manage .venv exactly without removing itself.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup run example test lint bench assets synth synth-app cost clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

setup: $(UV)
	$(UV) sync --frozen --quiet --python $(PYTHON)

# The main job on the embedded default: the API on http://127.0.0.1:8000 (SQLite, local
# blobs, in-process bus and scheduler) with the demo user and the local dev sign-in.
run: setup
	$(BIN)/portfoliowise serve --demo --dev-login

# The CLI on the bundled example (no server): valuation and an additional-investment plan.
example: setup
	$(BIN)/portfoliowise value examples/portfolio.json --quotes examples/quotes.sample.json --currency JPY
	$(BIN)/portfoliowise simulate examples/portfolio.json --quotes examples/quotes.sample.json --budget 300000JPY

lint: setup
	$(BIN)/ruff check src tests bench infra
	$(BIN)/ruff format --check src tests bench infra
	$(BIN)/mypy src
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python bench/run.py

# Lambda code assets (manylinux wheels for arm64, no Docker), then the CloudFormation templates.
assets: setup
	$(BIN)/python -m infra.cdk.build_assets

# The CDK CLI (aws-cdk from npm, pinned in infra/cdk/package.json and its lockfile) runs the
# app through cdk.json, as `cdk deploy` will; `synth-app` runs the app module alone (no Node).
CDK_DIR := infra/cdk
CDK := $(CDK_DIR)/node_modules/.bin/cdk
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true

$(CDK): $(CDK_DIR)/package.json $(CDK_DIR)/package-lock.json
	cd $(CDK_DIR) && npm ci --no-audit --no-fund
	touch $(CDK)

synth: assets $(CDK)
	cd $(CDK_DIR) && $(CDK_ENV) node_modules/.bin/cdk synth --quiet --no-notices $(CDK_ARGS)

synth-app: assets
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python -m infra.cdk.app

cost: setup
	$(BIN)/python -m infra.cdk.cost

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache infra/cdk/build infra/cdk/cdk.out infra/cdk/node_modules
