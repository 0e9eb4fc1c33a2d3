#!/bin/sh
set -eu
if [ "${1:-}" = redis-server ]; then
  shift
  exec runuser -u redis -- redis-server --bind 0.0.0.0 --protected-mode no "$@"
fi
exec "$@"
