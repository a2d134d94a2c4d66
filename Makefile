# tradeline-telephony: the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
LINT_VENV := .venv-lint
STAMP := $(VENV)/.installed-$(shell sha1sum infra/local/requirements.txt | cut -c1-12)
LINT_STAMP := $(LINT_VENV)/.installed-$(shell sha1sum infra/local/requirements-lint.txt | cut -c1-12)
ENV_FILE := .local/stack.env
# Every function package: what `make run` serves, built the way `cargo lambda watch` runs them.
FUNCTIONS := $(notdir $(wildcard functions/*))
# One build of the functions and the local tools, shared by `run`, `call`, `text`, `summary` and
# `ops`: the same package set resolves the same dependency features, so a tool run after
# `make run` is not rebuilt (a lone `cargo run -p call-simulator` would be: ~50 s on 2 cores).
BUILD_LOCAL := cargo build --quiet $(foreach f,$(FUNCTIONS),-p $(f)) -p call-simulator -p tradeline-ops -p relay-local --bins

.PHONY: run call text summary ops token kit browser test venv lint-venv prism lint-template check-rust bench bench-relay sizes soak events clean

## Install the pinned Python tools the local run needs (moto, cargo-lambda) into .venv.
venv: $(STAMP)
$(STAMP): infra/local/requirements.txt
	@echo "installing moto and cargo-lambda into $(VENV) (once)"
	@python3 -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements.txt
	@touch $@

## The template linters (cfn-lint, sam) for `make test`, in their own venv.
lint-venv: $(LINT_STAMP)
$(LINT_STAMP): infra/local/requirements-lint.txt
	@echo "installing cfn-lint and aws-sam-cli into $(LINT_VENV) (once)"
	@python3 -m venv $(LINT_VENV)
	@$(LINT_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/local/requirements-lint.txt
	@touch $@

## Run the hotline locally: moto + every route on http://127.0.0.1:9000.
run: venv prism
	@echo "building every function, the simulator and the operator CLI (first time: a few minutes)"
	@$(BUILD_LOCAL)
	@infra/local/run.sh

## Play a call against `make run` (ARGS="--digits 1,1 --dial no-answer --message-seconds 7").
call:
	@test -f $(ENV_FILE) || { echo "start the stack first: make run"; exit 1; }
	@set -a && source $(ENV_FILE) && set +a && $(BUILD_LOCAL) && target/debug/call-simulator $(ARGS)

## Send a text to `make run` (ARGS='--body STOP' or ARGS='--body "see photo" --media infra/local/sample-photo.png').
text:
	@test -f $(ENV_FILE) || { echo "start the stack first: make run"; exit 1; }
	@set -a && source $(ENV_FILE) && set +a && $(BUILD_LOCAL) && target/debug/call-simulator text $(ARGS)

## What an operator sees, from the local stack (the ops summary and the monitor's gauges).
summary:
	@test -f $(ENV_FILE) || { echo "start the stack first: make run"; exit 1; }
	@set -a && source $(ENV_FILE) && set +a && $(BUILD_LOCAL) && target/debug/call-simulator summary $(ARGS)

## The operator CLI against `make run`, signed with the run's local operator key
## (ARGS='numbers onboard --org acme --business "Acme Plumbing" --country CA --area-code 587').
ops:
	@test -f $(ENV_FILE) || { echo "start the stack first: make run"; exit 1; }
	@set -a && source $(ENV_FILE) && set +a && $(BUILD_LOCAL) && \
	  AWS_ACCESS_KEY_ID=$$LOCAL_OPERATOR_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$$LOCAL_OPERATOR_SECRET_ACCESS_KEY \
	  target/debug/tradeline-ops $(ARGS)

## A tenant user's token for the forwarding API of `make run` (ARGS='--org acme --name "Acme Plumbing"').
token:
	@test -f $(ENV_FILE) || { echo "start the stack first: make run"; exit 1; }
	@set -a && source $(ENV_FILE) && set +a && $(BUILD_LOCAL) && target/debug/call-simulator token $(ARGS)

## The Prism mock server for the Twilio contract tests (npm, pinned) in .local/prism.
PRISM := 5.16.0
PRISM_STAMP := .local/prism/.installed-$(PRISM)
prism: $(PRISM_STAMP)
$(PRISM_STAMP):
	@echo "installing the Prism mock server $(PRISM) into .local/prism (once)"
	@mkdir -p .local/prism
	@npm install --silent --no-audit --no-fund --prefix .local/prism @stoplight/prism-cli@$(PRISM)
	@touch $@

## Headless Chromium and poppler-utils (Debian packages) for the forwarding kit's browser test:
## installed with apt-get when missing (as root; otherwise it says what to install).
browser:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null || { \
	  [ "$$(id -u)" = 0 ] || { echo "install Debian's chromium and poppler-utils (sudo apt-get install chromium poppler-utils)"; exit 1; }; \
	  echo "installing Debian's chromium and poppler-utils (once)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium poppler-utils >/dev/null; }

## Render a forwarding kit (en and fr) in headless Chromium to PNG and PDF under target/forwarding-kit/out.
kit: venv browser
	cargo test -p integration-tests --test forwarding the_kit_renders_in_chromium -- --nocapture

## Everything CI checks: formatting, clippy, template lint, unit and integration tests.
test: venv prism browser lint-template check-rust
	@mkdir -p .local
	set -o pipefail; cargo test --workspace 2>&1 | tee .local/test.log
	@awk '/^test result:/ {p += $$4; f += $$6} END {printf "%d passed, %d failed\n", p, f; exit (f > 0 || p == 0)}' .local/test.log

check-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

lint-template: lint-venv
	$(LINT_VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(LINT_VENV)/bin/sam validate --lint --region ca-central-1 -t template.yaml

## The performance tables (criterion, the official Twilio libraries side by side, release bootstraps
## and their Node.js/Python peers under a Lambda Runtime API emulator in each memory size's CPU
## share, over TLS, the standard paths, the cost per 1,000 calls); needs root for the cgroup. The
## peers are installed into .local/bench (git-ignored).
TWILIO_NODE := 6.2.0
TWILIO_PYTHON := 9.13.0
## The peers of the cold-start bench (issue 26), pinned: Node.js 22 (the nodejs22.x runtime's
## major; from the npm registry's node-linux-<arch> package), its AWS SDK v3 DynamoDB client, and
## boto3 for the Python peer.
NODE22 := 22.23.5
AWS_SDK_JS := 3.1178.0
BOTO3 := 1.44.8
## The warm figures' second DynamoDB stand-in (in memory, on the Node.js above).
DYNALITE := 4.0.0
NODE_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x64)
BENCH_STAMP := .local/bench/.installed-$(TWILIO_NODE)-$(TWILIO_PYTHON)-$(NODE22)-$(AWS_SDK_JS)-$(BOTO3)-$(DYNALITE)
$(BENCH_STAMP):
	mkdir -p .local/bench
	npm install --silent --no-audit --no-fund --prefix .local/bench/node twilio@$(TWILIO_NODE) @aws-sdk/client-dynamodb@$(AWS_SDK_JS) dynalite@$(DYNALITE)
	npm install --silent --no-audit --no-fund --prefix .local/bench/node22 node-linux-$(NODE_ARCH)@$(NODE22)
	ln -sf node_modules/node-linux-$(NODE_ARCH)/bin/node .local/bench/node22/node
	python3 -m venv .local/bench/py
	.local/bench/py/bin/pip install --quiet --disable-pip-version-check twilio==$(TWILIO_PYTHON) boto3==$(BOTO3)
	touch $@

bench: venv $(BENCH_STAMP)
	python3 infra/bench/run.py

## The bootstraps as deployed (arm64, provided.al2023: cargo-lambda cross-compiles with zig from
## .venv); prints each one's size and fails over 6 MB (6,000,000 bytes).
sizes: venv
	rustup target add aarch64-unknown-linux-gnu
	PATH="$$PWD/$(VENV)/bin:$$PATH" cargo lambda build --release --arm64 $(foreach f,$(notdir $(wildcard functions/*)),--bin $(f))
	@fail=0; for f in $(foreach f,$(notdir $(wildcard functions/*)),target/lambda/$(f)/bootstrap); do \
	  s=$$(stat -c %s $$f); arch=$$(file -b $$f | cut -d, -f2 | xargs); \
	  printf '%-32s %8d bytes  %s\n' $$(basename $$(dirname $$f)) $$s "$$arch"; \
	  [ $$s -le 6000000 ] || { echo "  over 6 MB"; fail=1; }; done; exit $$fail

## Load and fault run: 200 calls + 200 texts with Twilio-style redelivery, AWS down once mid-run
## (ARGS="--calls 500 --texts 500 --outage-seconds 5"). Not part of `make test`.
soak: venv
	cargo run --quiet -p integration-tests --bin soak -- $(ARGS)

## The AI receptionist's own turn overhead (prompt in → first words out, minus the model's time to
## first token), warm handlers against moto, the local gateway and the model stand-in.
bench-relay: venv
	CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo run --quiet --release -p integration-tests --bin relay_bench

## Regenerate the signed sample events.
events:
	python3 infra/local/make_events.py

clean:
	rm -rf .local
