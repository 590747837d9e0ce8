#!/usr/bin/env bash
# Runs a command with FLAMINGO_DATABASE_URL pointing at a throw-away PostgreSQL server (Debian's
# postgresql: a new cluster in a temporary directory, loopback and a socket there only, as the
# `postgres` user when run as root), stopped and removed afterwards. For `flamingo bench queue` and
# trying cluster mode on one machine: Tests/Benchmarks/with_postgres.sh flamingo bench queue
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$bin/initdb" ] || { echo "with_postgres.sh: install Debian's postgresql (make deps)" >&2; exit 1; }
dir=$(mktemp -d /tmp/flamingo-pg-XXXXXX)
as=()
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as=(runuser -u postgres --); fi
port=$((20000 + RANDOM % 40000))
cleanup() { (cd /tmp && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true; rm -rf "$dir"; }
trap cleanup EXIT
(cd /tmp && "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U flamingo --no-sync >/dev/null)
(cd /tmp && "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null)
export FLAMINGO_DATABASE_URL="postgres://flamingo@127.0.0.1:$port/postgres?sslmode=disable"
"$@"
