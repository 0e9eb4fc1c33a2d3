# syntax=docker/dockerfile:1
#
# One image per service, all from this file:
#
#   docker build --build-arg SERVICE=publication -t conoceles/publication .
#
# SERVICE is one of auth, identity, capture, validation, publication, statistics — or loadgen,
# the load generator of the in-cluster load test (k8s/components/loadtest); the image runs the
# binary `conoceles-$SERVICE`, installed as /usr/local/bin/service. Stages:
#
#   chef     the Rust toolchain plus cargo-chef
#   planner  reduces the workspace to a recipe (manifests and lock file only)
#   builder  builds the workspace's dependencies from the recipe once (a layer that stays cached
#            until Cargo.toml or Cargo.lock change), then the six services' binaries together:
#            the six images share this stage, so a build of all six compiles everything once
#   runtime  distroless, non-root, no shell: the chosen service's binary and nothing else
#
# With no registry (an air-gapped build, or `make containers`), point RUST_IMAGE and
# RUNTIME_IMAGE at local images: any Debian image with the Rust toolchain on PATH, and any image
# with glibc, libgcc_s and CA certificates whose user 65532 exists (deploy/containers.sh makes
# both from Debian's packages).
#
# Everything the binary needs at run time is compiled into it: migrations (sqlx::migrate!),
# templates (askama), style sheets, scripts, the demo data, the states catalog and the texts of
# docs/ it serves (include_str!). Configuration comes only from the environment
# (crates/kit/src/config.rs); BIND_ADDRESS is 0.0.0.0 here so other containers reach it.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS chef
ARG CARGO_CHEF_VERSION=0.1.77
WORKDIR /src
RUN cargo install cargo-chef --locked --version "${CARGO_CHEF_VERSION}"

FROM chef AS planner
# The sources the workspace needs to build; keep this list in step with the builder's below.
COPY Cargo.toml Cargo.lock ./
COPY proto proto
COPY crates crates
COPY services services
COPY tests tests
COPY tools tools
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# The allocator's settings are compiled into it (JEMALLOC_SYS_WITH_MALLOC_CONF).
COPY .cargo .cargo
# Dependencies only (workspace crates are stubs here): cached while the manifests do not change.
RUN cargo chef cook --release --locked --recipe-path recipe.json
# The real sources. catalogs/ and docs/ are read by include_str! at compile time.
COPY Cargo.toml Cargo.lock ./
COPY proto proto
COPY crates crates
COPY services services
COPY tests tests
COPY tools tools
COPY catalogs catalogs
COPY docs docs
RUN cargo build --release --locked \
      -p conoceles-auth -p conoceles-identity -p conoceles-capture \
      -p conoceles-validation -p conoceles-publication -p conoceles-statistics \
      -p conoceles-loadgen \
 && for service in auth identity capture validation publication statistics loadgen; do \
      install -D -m 0755 "target/release/conoceles-${service}" "/out/${service}"; \
    done

FROM ${RUNTIME_IMAGE} AS runtime
ARG SERVICE
# SERVICE is one of the six (or loadgen): /out holds nothing else, so any other value stops the
# build here.
COPY --from=builder /out/${SERVICE} /usr/local/bin/service
LABEL org.opencontainers.image.title="conoceles-${SERVICE}" \
      org.opencontainers.image.description="Conóceles ${SERVICE} service" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
ENV BIND_ADDRESS=0.0.0.0
# The distroless "nonroot" user (uid 65532); the root filesystem can be mounted read-only.
USER 65532:65532
# `healthcheck` asks the service's own ops port for /healthz (the image has no shell or curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/service", "healthcheck"]
# With no argument the service runs; `migrate` applies its migrations and exits; `--help` lists
# each binary's other commands (e.g. capture's seed-demo).
ENTRYPOINT ["/usr/local/bin/service"]
