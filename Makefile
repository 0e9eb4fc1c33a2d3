# Conóceles — the commands a newcomer needs. See README.md.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help run test lint bench dp-accuracy soak fuzz containers infra build clean-test-data

help:
	@echo "make run    - infrastructure up, build, start the six services, print their URLs (Ctrl-C stops)"
	@echo "make test   - infrastructure up, then every test of the workspace"
	@echo "make lint   - rustfmt, clippy with warnings denied, and the deployment files (Dockerfile, compose, Kubernetes) checked offline"
	@echo "make bench  - national-scale figures against baselines on this machine (~4-5 min after the release build, ~12 from none); docs/benchmarks.md"
	@echo "make dp-accuracy - the differentially private identity tables' error against the true counts, at the demo's and a national scale (~2 min after the release build); docs/benchmarks.md"
	@echo "make fuzz   - each cargo-fuzz target (CSV import, photo, questionnaire definition, section form) for FUZZ_SECONDS (default 60)"
	@echo "make containers - podman, local base images from Debian's packages, the six images from the Dockerfile, run and checked (alone and as compose.yaml); docs/operations.md"
	@echo "make soak   - the fault-injection runs at length: broker connections cut, services killed and frozen, then RabbitMQ, PostgreSQL and Redis failing; docs/resilience.md"

infra:
	@deploy/local-infra.sh up

build:
	$(CARGO) build --workspace --bins

run: infra build
	@deploy/python-deps.sh
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
	@deploy/lint-deps.sh

bench: infra
	@deploy/bench.sh

# The accuracy of the differentially private identity tables on synthetic elections: the mean
# absolute error of every table against the true counts (ignored by make test: long).
dp-accuracy:
	$(CARGO) test --release -p conoceles-identity --test dp_accuracy -- --ignored --nocapture --test-threads 1

# Not part of make test: installs podman, makes images (the first run takes ~15 minutes).
containers: infra
	@deploy/python-deps.sh
	@deploy/containers.sh all

# The fault-injection runs of make test, at length and three times over, then the service crashes
# again with the machine's RabbitMQ, PostgreSQL and Redis failing too (alone: it stops them).
soak: infra
	@deploy/local-infra.sh clean-tests
	$(CARGO) build --workspace --bins
	@for run in 1 2 3; do \
		echo "== soak run $$run =="; \
		SOAK_CANDIDACIES=1000 $(CARGO) nextest run --profile soak -p conoceles-e2e --no-capture \
			-E 'test(in_process::journeys::nothing_is_lost_or_applied_twice)' || exit 1; \
		SOAK_CANDIDACIES=1200 $(CARGO) nextest run --profile soak -p conoceles-e2e --no-capture \
			-E 'test(faults::nothing_is_lost_or_applied_twice)' || exit 1; \
	done
	@echo "== soak: infrastructure faults =="
	SOAK_INFRA=1 SOAK_CANDIDACIES=1200 $(CARGO) nextest run --profile soak -p conoceles-e2e --no-capture -E 'test(faults::nothing_is_lost_or_applied_twice)'
	@deploy/local-infra.sh up

# The cargo-fuzz targets, each for FUZZ_SECONDS (default 60); docs/resilience.md.
fuzz:
	@deploy/fuzz.sh

clean-test-data:
	@deploy/local-infra.sh clean-tests
