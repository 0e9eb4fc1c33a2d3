#!/usr/bin/env bash
# The containers, run for real with podman on this machine (`make containers`): no image
# registry is needed, every base image is made here from Debian's packages.
#
#   deploy/containers.sh prepare   podman (runc, no default ulimits), debootstrap
#   deploy/containers.sh bases     the local base images: Debian, the Rust builder, the runtime
#   deploy/containers.sh infra     PostgreSQL, RabbitMQ, Redis and Prometheus images from Debian's
#                                  packages, and stand-ins for the collector, Jaeger and Mailpit
#   deploy/containers.sh images    the six service images from the project's Dockerfile
#   deploy/containers.sh smoke     each image run as operators will: non-root, read-only root,
#                                  no capabilities; its healthcheck, /readyz, gRPC health
#   deploy/containers.sh compose   compose.yaml up with podman-compose, checked, then removed
#   deploy/containers.sh kube      the production overlay's Deployments with podman kube play
#   deploy/containers.sh sizes     the images' sizes
#   deploy/containers.sh clean     removes what this script made
#   deploy/containers.sh all       prepare, bases, infra, images, smoke, compose, kube, sizes
#                                  (make containers)
#
# Images are tagged localhost/conoceles-base/* (bases) and localhost/conoceles/<service>:local.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$ROOT/.run/containers"
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SERVICES=(auth identity capture validation publication statistics)
BASE=localhost/conoceles-base
TAG="${CONOCELES_TAG:-local}"

log() { printf '[containers] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

prepare() {
  local missing=()
  for tool in podman runc debootstrap podman-compose; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} from Debian's packages"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      podman runc debootstrap podman-compose uidmap slirp4netns >/dev/null
  fi
  # crun fails on this kind of kernel (hybrid cgroups, setrlimit): runc, and no default ulimits.
  if ! grep -qs '^runtime = "runc"' /etc/containers/containers.conf; then
    log "configuring podman: runtime runc, no default ulimits"
    as_root mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n' |
      as_root tee /etc/containers/containers.conf >/dev/null
  fi
}

# A Debian tree made by debootstrap, kept under .run/containers for the other bases.
debian_tree() {
  local tree="$WORK/debian-$SUITE"
  if [ ! -x "$tree/bin/sh" ]; then
    log "debootstrap $SUITE (minbase) from $MIRROR"
    rm -rf "$tree"
    mkdir -p "$WORK"
    as_root debootstrap --variant=minbase "$SUITE" "$tree" "$MIRROR" >/dev/null
  fi
  printf '%s' "$tree"
}

image_exists() { podman image exists "$1"; }

base_debian() {
  local tree
  tree="$(debian_tree)"
  if ! image_exists "$BASE/debian:$SUITE"; then
    log "importing $BASE/debian:$SUITE"
    as_root tar -C "$tree" -c . | podman import --quiet - "$BASE/debian:$SUITE" >/dev/null
  fi
}

# The builder: Debian with a C toolchain for -sys crates, and this machine's Rust toolchain (the
# one rust-toolchain/rustup resolves for the project), relocated under /usr/local/rust.
base_rust() {
  local rustc_sysroot version context
  rustc_sysroot="$(cd "$ROOT" && rustc --print sysroot)"
  # Tagged by the toolchain and by what the Containerfile installs, so a changed Containerfile
  # (make, added for jemalloc's C build) makes a new builder instead of reusing the old one.
  version="$(cd "$ROOT" && rustc --version | awk '{print $2}')-$(sha256sum "$ROOT/deploy/containers/rust.Containerfile" | cut -c1-8)"
  if image_exists "$BASE/rust:$version"; then
    printf '%s' "$version"
    return
  fi
  context="$WORK/rust-context"
  rm -rf "$context"
  mkdir -p "$context"
  log "copying the Rust ${version%-*} toolchain ($rustc_sysroot) into the builder's context"
  cp -a "$rustc_sysroot/." "$context/toolchain"
  # Documentation is not needed to build.
  rm -rf "$context/toolchain/share/doc"
  cp "$ROOT/deploy/containers/rust.Containerfile" "$context/Containerfile"
  mkdir -p "$context/extra-ca"
  find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/extra-ca/" \; 2>/dev/null || true
  log "building $BASE/rust:$version"
  podman build --quiet --build-arg "DEBIAN_IMAGE=$BASE/debian:$SUITE" \
    -t "$BASE/rust:$version" "$context" >/dev/null
  rm -rf "$context"
  printf '%s' "$version"
}

# The runtime, as minimal as distroless: glibc, libgcc_s, CA certificates, a passwd with the
# "nonroot" user 65532 and an empty /tmp — no shell, no package manager.
base_runtime() {
  local tree root
  if image_exists "$BASE/runtime:$SUITE"; then return; fi
  tree="$(debian_tree)"
  root="$WORK/runtime-root"
  as_root rm -rf "$root"
  mkdir -p "$root"
  log "assembling the runtime tree (libc6, libgcc-s1, ca-certificates)"
  as_root chroot "$tree" sh -c 'apt-get install -y -q --no-install-recommends ca-certificates >/dev/null'
  # Each file of the packages at its canonical path (bookworm's /lib is a link to /usr/lib),
  # symbolic links kept as links, plus the top-level links of the merged /usr.
  as_root chroot "$tree" sh -c '
    dpkg -L libc6 libgcc-s1 ca-certificates | sort -u | while read -r path; do
      if [ -L "$path" ]; then
        echo "$(readlink -f "$(dirname "$path")")/$(basename "$path")"
        target="$(readlink -f "$path")"; [ -f "$target" ] && echo "$target"
      elif [ -f "$path" ]; then
        readlink -f "$path"
      fi
    done
    find /etc/ssl -mindepth 1
    for link in /bin /sbin /lib /lib64; do [ -L "$link" ] && echo "$link"; done' |
    sed 's|^/||' | sort -u > "$WORK/runtime-files"
  as_root tar -C "$tree" --no-recursion -c -T "$WORK/runtime-files" | as_root tar -C "$root" -x
  as_root mkdir -p "$root/tmp" "$root/home/nonroot" "$root/etc"
  as_root chmod 1777 "$root/tmp"
  as_root chown 65532:65532 "$root/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' |
    as_root tee "$root/etc/passwd" >/dev/null
  printf 'root:x:0:\nnonroot:x:65532:\n' | as_root tee "$root/etc/group" >/dev/null
  log "importing $BASE/runtime:$SUITE"
  as_root tar -C "$root" -c . | podman import --quiet - "$BASE/runtime:$SUITE" >/dev/null
}

bases() {
  base_debian
  base_rust >/dev/null
  base_runtime
}

images() {
  local version
  version="$(base_rust)"
  for service in "${SERVICES[@]}"; do
    log "building localhost/conoceles/$service:$TAG (the builder stage is shared: the first takes long)"
    # Docker's image format: OCI images have no HEALTHCHECK, and the Dockerfile's is kept.
    podman build --quiet --format docker \
      --build-arg "RUST_IMAGE=$BASE/rust:$version" \
      --build-arg "RUNTIME_IMAGE=$BASE/runtime:$SUITE" \
      --build-arg "SERVICE=$service" \
      -t "localhost/conoceles/$service:$TAG" -f "$ROOT/Dockerfile" "$ROOT" >/dev/null
  done
}

# Infrastructure images from Debian's packages (deploy/containers/infra/*.Containerfile).
infra() {
  local file name
  for file in "$ROOT"/deploy/containers/infra/*.Containerfile; do
    name="$(basename "$file" .Containerfile)"
    if image_exists "localhost/conoceles-infra/$name:local"; then continue; fi
    log "building localhost/conoceles-infra/$name:local"
    podman build --quiet --format docker --build-arg "DEBIAN_IMAGE=$BASE/debian:$SUITE" \
      -t "localhost/conoceles-infra/$name:local" -f "$file" "$ROOT/deploy/containers/infra" >/dev/null
  done
}

sizes() {
  podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' |
    grep -E '^localhost/conoceles(-base|-infra)?/' | sort
}

clean() {
  for service in "${SERVICES[@]}"; do
    podman rmi -f "localhost/conoceles/$service:$TAG" >/dev/null 2>&1 || true
  done
  podman images --format '{{.Repository}}:{{.Tag}}' | grep -E "^($BASE|localhost/conoceles-infra)/" |
    xargs -r podman rmi -f >/dev/null 2>&1 || true
  podman image prune -f >/dev/null 2>&1 || true
  as_root rm -rf "$WORK"
}

case "${1:-all}" in
  prepare) prepare ;;
  bases) prepare; bases ;;
  infra) infra ;;
  images) images ;;
  compose) "$ROOT/deploy/containers/compose.sh" ;;
  kube) "$ROOT/deploy/containers/kube.sh" ;;
  smoke) "$ROOT/deploy/containers/smoke.sh" ;;
  sizes) sizes ;;
  clean) clean ;;
  all)
    started=$(date +%s)
    prepare
    bases
    infra
    images
    "$ROOT/deploy/containers/smoke.sh"
    "$ROOT/deploy/containers/compose.sh"
    "$ROOT/deploy/containers/kube.sh"
    sizes
    log "done in $(( $(date +%s) - started )) s"
    ;;
  *) echo "usage: $0 [prepare|bases|images|smoke|sizes|clean|all]" >&2; exit 2 ;;
esac
