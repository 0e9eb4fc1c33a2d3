# Conóceles — the commands a newcomer needs. See README.md.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help run test lint bench infra build clean-test-data

help:
	@echo "make run    - infrastructure up, build, start the six services, print their URLs (Ctrl-C stops)"
	@echo "make test   - infrastructure up, then every test of the workspace"
	@echo "make lint   - rustfmt, clippy with warnings denied, and the deployment files (Dockerfile, compose, Kubernetes) checked offline"
	@echo "make bench  - benchmarks that exist so far (import at national scale); figures in docs/benchmarks.md"

infra:
	@deploy/local-infra.sh up

build:
	$(CARGO) build --workspace --bins

run: infra build
	@deploy/run-local.sh

# Service binaries are built first: the end-to-end tests start them as processes.
test: infra
	@deploy/local-infra.sh clean-tests
	@deploy/browser-deps.sh
	@deploy/python-deps.sh
	$(CARGO) build --workspace --bins
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		echo "cargo-nextest not found; running cargo test"; \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@deploy/lint-ops.sh

bench: infra
	@deploy/bench.sh

clean-test-data:
	@deploy/local-infra.sh clean-tests
