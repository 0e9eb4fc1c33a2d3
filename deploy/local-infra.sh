#!/usr/bin/env bash
# Brings up the local infrastructure the services need: PostgreSQL, RabbitMQ and Redis on
# 127.0.0.1, each service's database and role. Idempotent: run it as often as you like.
#
#   deploy/local-infra.sh up            start what is stopped, install what is missing, create roles/databases
#   deploy/local-infra.sh clean-tests   drop the throw-away databases left by earlier test runs
#
# Works with trust authentication (our machines) and with a stock Debian install (peer on the
# socket, passwords over TCP): roles are created with passwords, through whichever superuser
# connection answers.
set -euo pipefail

SERVICES=(auth identity capture validation publication statistics)
PG_HOST=127.0.0.1
PG_PORT=5432
# Local development credentials only; production takes them from secrets.
ADMIN_ROLE=conoceles
ADMIN_PASSWORD=conoceles

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"
  fi
}

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "cannot install $*: no apt-get on this machine; install it by hand"
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  log "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name seconds command...
  local name=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  die "$name did not answer within ${secs}s"
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_ready; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  if ! pg_ready; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  wait_for PostgreSQL 60 pg_ready
}

# Runs SQL as a superuser, whichever way this machine allows.
pg_super() {
  if psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1 </dev/null; then
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres "$@"
  elif [ "$(id -u)" -eq 0 ] && command -v runuser >/dev/null; then
    runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
  else
    sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"
  fi
}

ensure_role() { # role password [attributes]
  pg_super <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE $1 LOGIN PASSWORD '$2' ${3:-};
  END IF;
END \$\$;
SQL
}

ensure_database() { # name owner
  if [ "$(pg_super -tA -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" != 1 ]; then
    log "creating database $1"
    pg_super -c "CREATE DATABASE $1 OWNER $2"
  fi
}

setup_databases() {
  # The development/test role: creates the throw-away databases tests use.
  ensure_role "$ADMIN_ROLE" "$ADMIN_PASSWORD" "CREATEDB"
  local s
  for s in "${SERVICES[@]}"; do
    ensure_role "conoceles_$s" "conoceles_$s"
    ensure_database "conoceles_$s" "conoceles_$s"
    # Lets tests and tools that connect as the development role reach every service database.
    if [ "$(pg_super -tA -c "SELECT pg_has_role('$ADMIN_ROLE', 'conoceles_$s', 'MEMBER')")" != t ]; then
      pg_super -c "GRANT conoceles_$s TO $ADMIN_ROLE" >/dev/null
    fi
  done
}

# `make run` holds about 50 connections (six pools, their consumers and relays) and `make test`
# runs test stacks of about 70 each two at a time, with one-off commands beside them:
# PostgreSQL's default of 100 serves one or the other, not both (a developer keeps `make run` up
# while testing). Raised once, with a restart; later runs see it set.
PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-400}

ensure_connection_capacity() {
  local current version
  current=$(pg_super -tA -c "SHOW max_connections")
  [ "${current:-0}" -ge "$PG_MAX_CONNECTIONS" ] && return 0
  log "raising PostgreSQL's max_connections from $current to $PG_MAX_CONNECTIONS (restarts PostgreSQL once)"
  pg_super -c "ALTER SYSTEM SET max_connections = $PG_MAX_CONNECTIONS" >/dev/null
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$version" ]; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
  fi
  wait_for PostgreSQL 60 pg_ready
  current=$(pg_super -tA -c "SHOW max_connections")
  if [ "${current:-0}" -lt "$PG_MAX_CONNECTIONS" ]; then
    log "warning: max_connections is still $current; set it to $PG_MAX_CONNECTIONS and restart PostgreSQL to run make test beside make run"
  fi
}

# TLS to PostgreSQL is part of the configuration a deployment chooses (`sslmode=` in
# DATABASE_URL); the tests connect with it, so the local server offers it: Debian's packages
# turn it on with the machine's self-signed certificate, and this does the same if it is off.
ensure_postgres_tls() {
  [ "$(pg_super -tA -c "SHOW ssl")" = on ] && return 0
  [ -f /etc/ssl/private/ssl-cert-snakeoil.key ] || apt_install ssl-cert
  log "turning on TLS in PostgreSQL (the machine's self-signed certificate)"
  pg_super -c "ALTER SYSTEM SET ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'" >/dev/null
  pg_super -c "ALTER SYSTEM SET ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'" >/dev/null
  pg_super -c "ALTER SYSTEM SET ssl = on" >/dev/null
  pg_super -c "SELECT pg_reload_conf()" >/dev/null
}

# --- RabbitMQ ----------------------------------------------------------------------------------

ensure_rabbitmq() {
  if port_open 5672; then return 0; fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  if ! port_open 5672; then
    log "starting RabbitMQ"
    as_root rabbitmq-server -detached || true
  fi
  wait_for RabbitMQ 90 port_open 5672
  # The port opens before the broker accepts logins; wait for the application too.
  if command -v rabbitmqctl >/dev/null; then
    as_root rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  fi
}

# --- Redis -------------------------------------------------------------------------------------

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

ensure_redis() {
  if command -v redis-cli >/dev/null && redis_ready; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis_ready; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  wait_for Redis 30 redis_ready
}

# --- Commands ----------------------------------------------------------------------------------

# Tests use their own RabbitMQ virtual host, emptied before each run: quorum queues left by
# interrupted tests would otherwise pile up in the broker.
TEST_VHOST=conoceles-test

reset_test_vhost() {
  command -v rabbitmqctl >/dev/null || return 0
  as_root rabbitmqctl -q delete_vhost "$TEST_VHOST" >/dev/null 2>&1 || true
  as_root rabbitmqctl -q add_vhost "$TEST_VHOST" >/dev/null
  as_root rabbitmqctl -q set_permissions -p "$TEST_VHOST" guest '.*' '.*' '.*' >/dev/null
}

clean_tests() {
  reset_test_vhost
  local dbs
  dbs=$(pg_super -tA -c "SELECT datname FROM pg_database WHERE datname LIKE 'cktest\_%'")
  local db
  for db in $dbs; do pg_super -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null; done
  [ -z "$dbs" ] || log "dropped $(wc -w <<<"$dbs") test databases"
}

# The services' gRPC ports (50051-50056, the public contract) and the bench's second capture and
# statistics (51053, 51056) lie in Linux's ephemeral range: an outgoing connection (a pool's, say)
# can be given one of them a moment before its service binds it, which then fails with "Address
# already in use" (seen once in make bench). Reserved ports are never given out that way.
reserve_service_ports() {
  local file=/proc/sys/net/ipv4/ip_local_reserved_ports wanted=50051-50056,51053,51056
  [ -r "$file" ] || return 0
  local current
  current=$(cat "$file")
  case ",$current," in *",50051-50056,"*) return 0 ;; esac
  local list=$wanted
  [ -z "$current" ] || list="$current,$wanted"
  if { [ "$(id -u)" -eq 0 ] && echo "$list" >"$file"; } 2>/dev/null \
    || { sudo -n true && echo "$list" | sudo -n tee "$file" >/dev/null; } 2>/dev/null; then
    log "reserved the services' ports from the ephemeral range ($wanted)"
  else
    log "note: could not reserve $wanted from the ephemeral range (sysctl net.ipv4.ip_local_reserved_ports); a start may rarely find one taken"
  fi
}

case "${1:-up}" in
  up)
    reserve_service_ports
    command -v curl >/dev/null || apt_install curl
    ensure_postgres
    ensure_connection_capacity
    ensure_postgres_tls
    command -v openssl >/dev/null || apt_install openssl
    setup_databases
    ensure_rabbitmq
    ensure_redis
    log "PostgreSQL, RabbitMQ and Redis are up on 127.0.0.1"
    ;;
  clean-tests)
    ensure_postgres
    ensure_rabbitmq
    clean_tests
    ;;
  *)
    die "usage: $0 [up|clean-tests]"
    ;;
esac
