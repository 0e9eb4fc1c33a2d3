#!/usr/bin/env bash
# The six service images run as operators run them — non-root (the image's user 65532), a
# read-only root file system with only /tmp writable, every capability dropped, no new
# privileges — against this machine's PostgreSQL, RabbitMQ and Redis (databases, exchange names
# and cache keys of their own, ports beside `make run`'s, so both can be up). It proves what
# `make run` proves: each image's healthcheck command and /readyz, gRPC health, migrations at
# start-up, the demo loaded by the capture image's `seed-demo`, the approvals reaching the
# public site; then removes what it made.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TAG="${CONOCELES_TAG:-local}"
SERVICES=(auth identity capture validation publication statistics)
declare -A OPS=([auth]=19051 [identity]=19052 [capture]=19053 [validation]=19054 [publication]=19055 [statistics]=19056)
declare -A GRPC=([auth]=51051 [identity]=51052 [capture]=51053 [validation]=51054 [publication]=51055 [statistics]=51056)
declare -A HTTP=([capture]=18081 [publication]=18080 [statistics]=18082)
PREFIX=ctr
PYTHON="$ROOT/.run/python/bin/python"

log() { printf '[smoke] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

"$ROOT/deploy/local-infra.sh" up >/dev/null
[ -x "$PYTHON" ] || "$ROOT/deploy/python-deps.sh" >/dev/null

secrets=()
declare -A SECRET
for s in "${SERVICES[@]}"; do
  SECRET[$s]=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
  secrets+=("$s=${SECRET[$s]}")
done
SERVICE_SECRETS=$(IFS=,; echo "${secrets[*]}")
AUTH_SIGNING_KEY=$(head -c 32 /dev/urandom | base64)
IDENTITY_KEK="smoke-1:$(head -c 32 /dev/urandom | base64)"

database() { printf 'postgres://postgres@127.0.0.1:5432/conoceles_%s_%s' "$PREFIX" "$1"; }

cleanup() {
  for s in "${SERVICES[@]}"; do podman rm -f "$PREFIX-$s" >/dev/null 2>&1 || true; done
  for s in "${SERVICES[@]}"; do
    psql -q -h 127.0.0.1 -U postgres -d postgres \
      -c "DROP DATABASE IF EXISTS conoceles_${PREFIX}_$s WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
cleanup
for s in "${SERVICES[@]}"; do
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE conoceles_${PREFIX}_$s" >/dev/null
done

# The environment compose.yaml gives each service, with this machine's addresses.
env_of() {
  local s=$1
  printf '%s\n' \
    "BIND_ADDRESS=127.0.0.1" \
    "DATABASE_URL=$(database "$s")" \
    "AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f" \
    "AMQP_NAMESPACE=conoceles-$PREFIX" \
    "REDIS_URL=redis://127.0.0.1:6379/" \
    "REDIS_KEY_PREFIX=conoceles-$PREFIX:" \
    "OPS_PORT=${OPS[$s]}" "GRPC_PORT=${GRPC[$s]}" "HTTP_PORT=${HTTP[$s]:-0}" \
    "AUTH_GRPC_URL=http://127.0.0.1:${GRPC[auth]}" \
    "IDENTITY_GRPC_URL=http://127.0.0.1:${GRPC[identity]}" \
    "CAPTURE_GRPC_URL=http://127.0.0.1:${GRPC[capture]}" \
    "VALIDATION_GRPC_URL=http://127.0.0.1:${GRPC[validation]}" \
    "STATISTICS_GRPC_URL=http://127.0.0.1:${GRPC[statistics]}" \
    "SERVICE_SECRET=${SECRET[$s]}" \
    "SERVICE_SECRETS=$SERVICE_SECRETS" \
    "AUTH_SIGNING_KEY=$AUTH_SIGNING_KEY" \
    "IDENTITY_KEK=$IDENTITY_KEK" \
    "CAPTURE_PUBLIC_URL=http://127.0.0.1:${HTTP[capture]}" \
    "RUST_LOG=info"
}

# As compose.yaml and the Kubernetes manifests run them. The image's HEALTHCHECK is run below
# by `podman healthcheck run` (podman's own timer needs systemd, which this machine lacks).
run_flags=(--network=host --read-only --tmpfs /tmp --cap-drop=ALL --security-opt=no-new-privileges
  --health-interval=disable)

# A one-off command of a service's image (migrate, seed-demo, approve-passing, create-admin).
once() {
  local s=$1; shift
  podman run --rm "${run_flags[@]}" --env-file <(env_of "$s") "localhost/conoceles/$s:$TAG" "$@"
}

grpc_serving() {
  "$PYTHON" - "$1" <<'PY'
import sys, grpc
channel = grpc.insecure_channel(f"127.0.0.1:{sys.argv[1]}")
check = channel.unary_unary("/grpc.health.v1.Health/Check",
                            request_serializer=lambda b: b, response_deserializer=lambda b: b)
# HealthCheckRequest{service: ""} is empty; HealthCheckResponse{status: SERVING} is 08 01.
sys.exit(0 if check(b"", timeout=5) == b"\x08\x01" else 1)
PY
}

for s in "${SERVICES[@]}"; do
  log "starting $s"
  podman run -d --name "$PREFIX-$s" "${run_flags[@]}" --env-file <(env_of "$s") \
    "localhost/conoceles/$s:$TAG" >/dev/null
  healthy=0
  for _ in $(seq 1 120); do
    if podman healthcheck run "$PREFIX-$s" >/dev/null 2>&1; then healthy=1; break; fi
    sleep 0.5
  done
  [ "$healthy" = 1 ] || { podman logs --tail 30 "$PREFIX-$s" >&2; fail "$s: the image's healthcheck never passed"; }
done

for s in "${SERVICES[@]}"; do
  ready=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:${OPS[$s]}/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.5
  done
  [ "$ready" = 1 ] || { podman logs --tail 30 "$PREFIX-$s" >&2; fail "$s: /readyz never answered ready"; }
  grpc_serving "${GRPC[$s]}" || fail "$s: gRPC health is not SERVING"
  user=$(podman top "$PREFIX-$s" user | tail -n 1 | tr -d ' ')
  [ "$user" = 65532 ] || [ "$user" = nonroot ] || fail "$s runs as '$user', not the non-root user"
  [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$PREFIX-$s")" = true ] ||
    fail "$s: the root file system is writable"
  log "$s: healthy, ready, gRPC SERVING, user $user, read-only root"
done

log "loading the demo through the capture image (seed-demo), approving through validation's"
seed=$(once capture seed-demo 2>/dev/null) || fail "seed-demo"
submitted=$(sed -n 's/.*; \([0-9]*\) questionnaires submitted.*/\1/p' <<<"$seed")
approved=0
for _ in $(seq 1 60); do
  n=$(once validation approve-passing 2>/dev/null | sed -n 's/^Approved \([0-9]*\).*/\1/p')
  approved=$((approved + ${n:-0}))
  [ "$approved" -ge "${submitted:-1}" ] && break
  sleep 1
done
[ "$approved" -gt 0 ] || fail "no questionnaire was approved"

listed=0
for _ in $(seq 1 60); do
  listed=$(curl -fsS "http://127.0.0.1:${HTTP[publication]}/candidaturas" | grep -c 'class="tarjeta"' || true)
  [ "$listed" -gt 0 ] && break
  sleep 1
done
[ "$listed" -gt 0 ] || fail "the public site lists no approved candidacy"
log "the public site lists $listed approved candidacies on its first page ($approved approved of $submitted submitted)"

admin=$(once auth create-admin admin@contenedores.local 2>/dev/null | sed -n 's/^Password (change it at first login): //p')
[ -n "$admin" ] || fail "create-admin"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${HTTP[capture]}/api/v1/sessions" \
  -H 'content-type: application/json' \
  -d "{\"email\":\"admin@contenedores.local\",\"password\":\"$admin\"}")
[ "$status" = 200 ] || [ "$status" = 201 ] || fail "the admin's login answered $status"
log "an admin created with the auth image logs in through the capture image ($status)"
log "passed"
