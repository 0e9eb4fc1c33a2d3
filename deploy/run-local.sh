#!/usr/bin/env bash
# Starts the six services on their default ports (DESIGN §3), waits until each is ready, prints
# the URLs, and stops them all on Ctrl-C. Logs go to .run/logs/<service>.log.
# Expects `make infra` and `make build` to have run (`make run` does both).
set -euo pipefail

cd "$(dirname "$0")/.."
PROFILE_DIR=${PROFILE_DIR:-target/debug}
SERVICES=(auth identity capture validation publication statistics)
declare -A OPS=([auth]=9051 [identity]=9052 [capture]=9053 [validation]=9054 [publication]=9055 [statistics]=9056)
declare -A HTTP=([capture]=8081 [publication]=8080 [statistics]=8082)
declare -A GRPC=([auth]=50051 [identity]=50052 [capture]=50053 [validation]=50054 [publication]=50055 [statistics]=50056)

mkdir -p .run/logs
pids=()

# Local secrets, made once: each service's secret for obtaining service tokens from auth, and
# auth's signing key (so tokens survive restarts). Production takes them from its secret store.
if [ ! -f .run/secrets.env ]; then
  umask 077
  {
    echo "AUTH_SIGNING_KEY=$(head -c 32 /dev/urandom | base64)"
    secrets=()
    for s in "${SERVICES[@]}"; do
      secret=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
      echo "SERVICE_SECRET_${s^^}=$secret"
      secrets+=("$s=$secret")
    done
    (IFS=,; echo "SERVICE_SECRETS=${secrets[*]}")
  } >.run/secrets.env
fi
# shellcheck disable=SC1091
source .run/secrets.env
export AUTH_SIGNING_KEY SERVICE_SECRETS

stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo
    echo "Stopping the services..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo "Stopped."
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for s in "${SERVICES[@]}"; do
  for port in "${OPS[$s]}" "${GRPC[$s]}" ${HTTP[$s]:-}; do
    if port_busy "$port"; then
      echo "Port $port (needed by $s) is already in use. Is another 'make run' still running?" >&2
      exit 1
    fi
  done
  binary="$PROFILE_DIR/conoceles-$s"
  [ -x "$binary" ] || { echo "$binary is missing: run 'make build'" >&2; exit 1; }
  secret_var="SERVICE_SECRET_${s^^}"
  SERVICE_SECRET="${!secret_var}" "$binary" >".run/logs/$s.log" 2>&1 &
  pids+=($!)
done

for s in "${SERVICES[@]}"; do
  ready=0
  for _ in $(seq 1 240); do
    if curl -fsS "http://127.0.0.1:${OPS[$s]}/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.25
  done
  if [ "$ready" -ne 1 ]; then
    echo "$s did not become ready; the end of .run/logs/$s.log:" >&2
    tail -n 20 ".run/logs/$s.log" >&2
    exit 1
  fi
done

# The demo election (idempotent): its candidacies reach auth as events, which generates
# the parties' and candidacies' accounts.
seed_out=$("$PROFILE_DIR/conoceles-capture" seed-demo 2>.run/logs/seed-demo.log) || {
  echo "Loading the demo election failed; see .run/logs/seed-demo.log" >&2
  exit 1
}

# The first administrator: created once; later runs give it a new password.
admin_email=admin@demo.conoceles.mx
if ! admin_out=$("$PROFILE_DIR/conoceles-auth" create-admin "$admin_email" 2>/dev/null); then
  admin_out=$("$PROFILE_DIR/conoceles-auth" reset-password "$admin_email" 2>/dev/null) || admin_out=""
fi
admin_password=$(sed -n 's/^Password (change it at first login): //p' <<<"$admin_out")

cat <<TXT

Conóceles is running. Every service is ready.
$seed_out (Coahuila 2026, local deputies).

  Capture front (parties, candidates, the unit's back office): http://127.0.0.1:8081/ingresar
    administrator: $admin_email  password: ${admin_password:-"(could not be set; see .run/logs)"}
    (a new password each run; you will be asked to change it at first login)
    The parties' and candidacies' accounts are generated from the demo candidacies: issue their
    credential sheets at http://127.0.0.1:8081/admin/credenciales

  service       gRPC                       ops (health, readiness, metrics)
TXT
for s in "${SERVICES[@]}"; do
  printf '  %-12s  %-25s  http://127.0.0.1:%s/readyz  /healthz  /metrics\n' "$s" "127.0.0.1:${GRPC[$s]}" "${OPS[$s]}"
done
cat <<TXT

  The public site (publication, http://127.0.0.1:8080), the statistics API
  (http://127.0.0.1:8082) and the demo election arrive with their issues; until then those
  HTTP ports are not opened.

  Logs: .run/logs/<service>.log (JSON, one line per event, with trace ids)
  Press Ctrl-C to stop everything.
TXT

wait -n "${pids[@]}" || true
echo "A service exited; see .run/logs/. Stopping the others." >&2
exit 1
