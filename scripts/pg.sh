#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the API tests and print its DATABASE_URL (last line).
# Installs PostgreSQL with apt-get when initdb is absent (Debian, root: scripts/apt-install.sh). Idempotent: a cluster
# already running in $PGDIR is reused. Stop it with: scripts/pg.sh stop; scripts/pg.sh status
# exits 0 when it runs (the tests stop only a cluster they started).
set -euo pipefail
PGDIR="${ROTATION_PG_DIR:-/tmp/rotation-pg}"
PORT="${ROTATION_PG_PORT:-54329}"
SOCK=/tmp

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

BIN="$(find_bin || true)"
if [ -z "$BIN" ]; then
  sh "$(dirname "$0")/apt-install.sh" scripts/pg.sh --with-recommends postgresql
  BIN="$(find_bin)"
fi

RUNAS=()
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd -r -M postgres
  RUNAS=(runuser -u postgres --)
fi

if [ "${1:-}" = "status" ]; then
  [ -f "$PGDIR/PG_VERSION" ] && "${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1
  exit $?
fi

if [ "${1:-}" = "stop" ]; then
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDIR" stop -m fast >&2 || true
  exit 0
fi

if [ ! -f "$PGDIR/PG_VERSION" ]; then
  mkdir -p "$PGDIR"
  [ "$(id -u)" = "0" ] && chown postgres "$PGDIR"
  "${RUNAS[@]}" "$BIN/initdb" -D "$PGDIR" -U postgres -A trust --encoding=UTF8 >&2
fi
if ! "${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDIR" status >/dev/null 2>&1; then
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$PGDIR" -l "$PGDIR/server.log" -w \
    -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1" start >&2
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='rotation'" | grep -q 1 \
  || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres rotation
echo "postgresql://postgres@127.0.0.1:$PORT/rotation"
