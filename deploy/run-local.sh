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
# The identity service's key-encryption key, made once and kept apart from its database
# (production keeps it in a secret store; see docs/identity.md).
if ! grep -q '^IDENTITY_KEK=' .run/secrets.env; then
  echo "IDENTITY_KEK=local-1:$(head -c 32 /dev/urandom | base64)" >>.run/secrets.env
fi
# shellcheck disable=SC1091
source .run/secrets.env
export AUTH_SIGNING_KEY SERVICE_SECRETS IDENTITY_KEK

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

# The mail capture sends (requirements, observations, deadlines, approvals) goes to a real SMTP
# server on loopback that keeps each message in .run/mail (deploy/mail-sink.py).
MAIL_PORT=${MAIL_PORT:-2525}
if port_busy "$MAIL_PORT"; then
  echo "Port $MAIL_PORT (the local mail server) is already in use. Is another 'make run' still running?" >&2
  exit 1
fi
mkdir -p .run/mail
.run/python/bin/python deploy/mail-sink.py --port "$MAIL_PORT" --dir .run/mail >.run/logs/mail.log 2>&1 &
pids+=($!)
export SMTP_URL="smtp://127.0.0.1:$MAIL_PORT"

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
# the parties' and candidacies' accounts. `DEMO=sonora` loads the Sonora-like process
# (local deputies and ayuntamientos) instead of Coahuila's local deputies.
demo=${DEMO:-coahuila}
case "$demo" in
  coahuila) demo_label="Coahuila 2026, local deputies" ;;
  sonora) demo_label="Sonora-like, local deputies and ayuntamientos; illustrative catalogs" ;;
  *) echo "DEMO must be coahuila or sonora, not '$demo'" >&2; exit 2 ;;
esac
seed_out=$("$PROFILE_DIR/conoceles-capture" seed-demo "--process=$demo" 2>.run/logs/seed-demo.log) || {
  echo "Loading the demo election failed; see .run/logs/seed-demo.log" >&2
  exit 1
}

# The demo goes through the real pipeline: capture submitted the questionnaires above;
# validation reviews each as its event arrives; here the automatic approval stands in for the
# unit's reviewers, and publication builds the public site from the approvals.
submitted=$(sed -n 's/.*; \([0-9]*\) questionnaires submitted.*/\1/p' <<<"$seed_out")
approved=0
for _ in $(seq 1 60); do
  n=$("$PROFILE_DIR/conoceles-validation" approve-passing 2>>.run/logs/approve-demo.log | sed -n 's/^Approved \([0-9]*\).*/\1/p')
  approved=$((approved + ${n:-0}))
  [ "$approved" -ge "${submitted:-0}" ] && break
  sleep 1
done

# The first administrator: created once; later runs give it a new password.
admin_email=admin@demo.conoceles.mx
if ! admin_out=$("$PROFILE_DIR/conoceles-auth" create-admin "$admin_email" 2>/dev/null); then
  admin_out=$("$PROFILE_DIR/conoceles-auth" reset-password "$admin_email" 2>/dev/null) || admin_out=""
fi
admin_password=$(sed -n 's/^Password (change it at first login): //p' <<<"$admin_out")

# Demo accounts of a party and of a candidacy, generated by auth from the demo's events; each
# run gives them a new password (printed below), as the admin's reset would.
auth_db="postgres://conoceles_auth:conoceles_auth@127.0.0.1:5432/conoceles_auth"
generated_email() {
  psql -At "$auth_db" -c "SELECT a.email FROM accounts a JOIN generated_accounts g ON g.account_id = a.id \
    WHERE g.kind = '$1' AND a.locked_at IS NULL ORDER BY g.label, a.email LIMIT 1" 2>/dev/null || true
}
demo_password() {
  "$PROFILE_DIR/conoceles-auth" reset-password "$1" 2>/dev/null | sed -n 's/^Password (change it at first login): //p'
}
party_email="" candidate_email=""
for _ in $(seq 1 120); do
  party_email=$(generated_email party)
  candidate_email=$(generated_email candidacy)
  [ -n "$party_email" ] && [ -n "$candidate_email" ] && break
  sleep 0.25
done

# The demo's identity questionnaires, answered through the capture front as each party would
# (deploy/seed-identity.py: varied consents and answers from a fixed seed; a questionnaire
# already sent is skipped), so the identity statistics show something. It runs before the
# printed party password is set, since signing in changes each party's password.
identity_summary=""
if [ -n "$party_email" ]; then
  # Every party's account: auth generates them from the candidacy events; wait until no more arrive.
  accounts=-1
  for _ in $(seq 1 20); do
    n=$(psql -At "$auth_db" -c "SELECT count(*) FROM generated_accounts" 2>/dev/null || echo 0)
    [ "$n" = "$accounts" ] && break
    accounts=$n
    sleep 0.5
  done
  mapfile -t parties < <(psql -At "$auth_db" -c "SELECT a.email FROM accounts a JOIN generated_accounts g \
    ON g.account_id = a.id WHERE g.kind = 'party' AND a.locked_at IS NULL ORDER BY a.email" 2>/dev/null || true)
  # Their passwords reset at once (each reset is a process that connects to auth's database).
  passwords_dir=$(mktemp -d)
  resets=()
  for i in "${!parties[@]}"; do
    demo_password "${parties[$i]}" >"$passwords_dir/$i" &
    resets+=($!)
  done
  [ ${#resets[@]} -gt 0 ] && { wait "${resets[@]}" || true; }
  credentials=""
  for i in "${!parties[@]}"; do
    password=$(cat "$passwords_dir/$i")
    [ -n "$password" ] && credentials+="${parties[$i]}:$password"$'\n'
  done
  rm -rf "$passwords_dir"
  if [ -n "$credentials" ]; then
    # The credentials go on stdin, not the command line.
    identity_summary=$(.run/python/bin/python deploy/seed-identity.py --capture http://127.0.0.1:8081 \
      --parties - <<<"$credentials" 2>.run/logs/seed-identity.log) \
      || identity_summary="${identity_summary:+$identity_summary }Some identity questionnaires were not sent; see .run/logs/seed-identity.log"
  fi
fi

party_password="" candidate_password=""
[ -n "$party_email" ] && party_password=$(demo_password "$party_email")
[ -n "$candidate_email" ] && candidate_password=$(demo_password "$candidate_email")

cat <<TXT

Conóceles is running. Every service is ready.
$seed_out ($demo_label).
Approved for publication in this run: $approved.
${identity_summary:-"No identity questionnaire was answered (no party account yet)."}

  Public site (citizens): http://127.0.0.1:8080/  ·  open data: http://127.0.0.1:8080/datos

  Capture front (parties, candidates, the unit's back office): http://127.0.0.1:8081/ingresar
    administrator: $admin_email  password: ${admin_password:-"(could not be set; see .run/logs)"}
    a party:       ${party_email:-"(not generated yet)"}  password: ${party_password:-"-"}
    a candidacy:   ${candidate_email:-"(not generated yet)"}  password: ${candidate_password:-"-"}
    (new passwords each run; each account is asked to change its password at first login)
    Manual for parties and candidates: http://127.0.0.1:8081/ayuda
    JSON API: http://127.0.0.1:8081/api/v1/openapi.json
    The parties' and candidacies' accounts are generated from the demo candidacies: issue their
    credential sheets at http://127.0.0.1:8081/admin/credenciales

  service       gRPC                       ops (health, readiness, metrics)
TXT
for s in "${SERVICES[@]}"; do
  printf '  %-12s  %-25s  http://127.0.0.1:%s/readyz  /healthz  /metrics\n' "$s" "127.0.0.1:${GRPC[$s]}" "${OPS[$s]}"
done
cat <<TXT

  Statistics API (statisticians and admins): http://127.0.0.1:8082/api/v1/openapi.json
    token: curl -s -X POST http://127.0.0.1:8081/api/v1/sessions -H 'content-type: application/json' \
             -d '{"email":"$admin_email","password":"<password>"}'
           (a printed password changes first: in the front, or POST /api/v1/account/password
            with {"current_password","new_password"} and the token, which answers a new token)
    then:  curl -H "Authorization: Bearer <token>" http://127.0.0.1:8082/api/v1/tables/progress.by_postulant?format=csv

  Mail sent to parties and candidates: .run/mail/ (each message as .eml and, decoded, .json;
    SMTP on 127.0.0.1:$MAIL_PORT). Register the parties' addresses at http://127.0.0.1:8081/admin/correos
  Logs: .run/logs/<service>.log (JSON, one line per event, with trace ids)
  Press Ctrl-C to stop everything.
TXT

wait -n "${pids[@]}" || true
echo "A service exited; see .run/logs/. Stopping the others." >&2
exit 1
