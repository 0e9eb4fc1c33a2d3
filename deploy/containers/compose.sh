#!/usr/bin/env bash
# compose.yaml, as operators will use it, started with podman-compose on this machine (with
# deploy/containers/compose.podman.yaml naming the local images), then checked through its
# published ports and its network as `make run` is checked; then stopped and removed.
#
# Podman 4.3 cannot evaluate `condition: service_healthy` (podman-compose skips it below 4.6)
# and runs no periodic healthcheck without systemd: this script starts the services in the
# order of compose.yaml's depends_on and runs each container's own healthcheck
# (`podman healthcheck run`) until it passes before starting what depends on it.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$ROOT/.run/containers-venv"
PROJECT=conoceles
NETWORK="${PROJECT}_default"

log() { printf '[compose] %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

if [ ! -x "$VENV/bin/podman-compose" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "podman-compose==1.6.0"
fi
compose() {
  "$VENV/bin/podman-compose" -p "$PROJECT" -f "$ROOT/compose.yaml" \
    -f "$ROOT/deploy/containers/compose.podman.yaml" "$@"
}
container_of() {
  podman ps -a --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" --format '{{.Names}}' | head -n 1
}

# KEEP_STACK=1 leaves the stack up at the end (to look at it); `deploy/containers.sh compose`
# again, or `podman-compose -p conoceles down -v`, removes it.
stop() {
  if [ "${KEEP_STACK:-0}" = 1 ] && [ "${1:-}" = at-exit ]; then log "left up (KEEP_STACK=1)"; return; fi
  log "stopping and removing the stack (containers, network, volumes)"
  compose down -v >/dev/null 2>&1 || true
}
trap 'stop at-exit' EXIT
stop

for port in 8080 8081 8082 9090 15672 16686 8025; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    fail "port $port is in use (is 'make run' up?); compose.yaml publishes it"
  fi
done

started=$(date +%s)
wait_healthy() {
  local service container
  for service in "$@"; do
    container=$(container_of "$service")
    [ -n "$container" ] || fail "$service has no container"
    for i in $(seq 1 180); do
      if podman healthcheck run "$container" >/dev/null 2>&1; then break; fi
      [ "$i" = 180 ] && { podman logs --tail 30 "$container" >&2; fail "$service never became healthy"; }
      sleep 1
    done
    log "$service healthy"
  done
}
# podman-compose warns that it skips every `service_healthy` condition on podman 4.3: kept in
# .run/compose-up.log, shown only when `up` fails.
up() { compose up -d --no-build "$@" >/dev/null 2>"$ROOT/.run/compose-up.log" || { tail -n 20 "$ROOT/.run/compose-up.log" >&2; fail "up $*"; }; }
# One-off services: what they depend on has been started above (and a finished one-off is not
# started again).
run_once() {
  local service=$1 container code
  up --no-deps "$service"
  container=$(container_of "$service")
  code=$(podman wait "$container")
  podman logs "$container" 2>&1 | tail -n 5 >&2
  [ "$code" = 0 ] || fail "$service exited with $code"
}

log "infrastructure"
up postgres identity-postgres rabbitmq redis jaeger mailpit prometheus
wait_healthy postgres identity-postgres rabbitmq redis jaeger mailpit prometheus
up otel-collector
for service in auth identity validation capture; do
  up "$service"
  wait_healthy "$service"
done
up publication statistics
wait_healthy publication statistics
log "demo: seed, wait for validation, approve, first administrator"
run_once demo-seed
run_once demo-wait
run_once demo-approve
up --no-deps demo-admin
admin_container=$(container_of demo-admin)
[ "$(podman wait "$admin_container")" = 0 ] || fail "demo-admin"
admin_password=$(podman logs "$admin_container" 2>&1 | sed -n 's/^Password (change it at first login): //p')
log "the stack is up in $(( $(date +%s) - started )) s"

# Inside the stack's network: /readyz and gRPC health of the six.
# A short-lived container on the stack's network; a few tries, as its name resolution (podman's
# aardvark-dns) can miss while containers join the network.
probe() {
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    if podman run --rm --network "$NETWORK" --entrypoint "$1" \
      localhost/conoceles-infra/telemetry-sink:local "${@:2}" 2>/dev/null; then
      return 0
    fi
    sleep 1
  done
  return 1
}
declare -A OPS=([auth]=9051 [identity]=9052 [capture]=9053 [validation]=9054 [publication]=9055 [statistics]=9056)
declare -A GRPC=([auth]=50051 [identity]=50052 [capture]=50053 [validation]=50054 [publication]=50055 [statistics]=50056)
for service in auth identity capture validation publication statistics; do
  probe wget -q -O /dev/null "http://$service:${OPS[$service]}/readyz" || fail "$service /readyz"
  probe python3 -c "
import grpc, sys
check = grpc.insecure_channel('$service:${GRPC[$service]}').unary_unary(
    '/grpc.health.v1.Health/Check', request_serializer=lambda b: b, response_deserializer=lambda b: b)
sys.exit(0 if check(b'', timeout=5) == b'\x08\x01' else 1)" || fail "$service gRPC health"
  log "$service: /readyz ready, gRPC SERVING"
done

# Through the published ports, as a citizen and the unit would.
listed=0
for _ in $(seq 1 60); do
  listed=$(curl -fsS http://127.0.0.1:8080/candidaturas | grep -c 'class="tarjeta"' || true)
  [ "$listed" -gt 0 ] && break
  sleep 1
done
[ "$listed" -gt 0 ] || fail "the public site lists no approved candidacy"
log "public site (127.0.0.1:8080): $listed approved candidacies on the first page"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:8081/api/v1/sessions \
  -H 'content-type: application/json' \
  -d "{\"email\":\"admin@demo.conoceles.mx\",\"password\":\"$admin_password\"}")
[ "$status" = 201 ] || [ "$status" = 200 ] || fail "the demo administrator's login answered $status"
log "capture (127.0.0.1:8081): the demo administrator logs in ($status)"
# A party: the unit resets its generated account's password with the auth image (as
# `docker compose run --rm demo-admin reset-password …` does), the party logs in through the
# published API, captures one candidacy by bulk upload, uploads its photo and submits; the
# approval (validation's image) reaches the public profile.
party_email=partido-morena@cuentas.conoceles.local
party_password=$(compose run --rm --no-deps demo-admin reset-password "$party_email" 2>/dev/null |
  tr -d '\r' | sed -n 's/^Password (change it at first login): //p')
[ -n "$party_password" ] || fail "resetting the party's password"
candidacy=$(python3 "$ROOT/deploy/containers/party-journey.py" http://127.0.0.1:8081 "$party_email" "$party_password") ||
  fail "the party's capture and submission"
log "the party $party_email logged in, captured and submitted candidacy $candidacy"
published=0
for _ in $(seq 1 60); do
  compose run --rm --no-deps demo-approve >/dev/null 2>&1 || true
  if curl -fsS -o /dev/null "http://127.0.0.1:8080/candidaturas/$candidacy"; then published=1; break; fi
  sleep 1
done
[ "$published" = 1 ] || fail "the approval of $candidacy never reached its public profile"
log "its approval reached the public profile: http://127.0.0.1:8080/candidaturas/$candidacy"
curl -fsS -o /dev/null http://127.0.0.1:8082/api/v1/openapi.json || fail "statistics API"
log "statistics (127.0.0.1:8082): the API answers"
log "passed in $(( $(date +%s) - started )) s"
