#!/usr/bin/env bash
# postgres-start.sh [DIR] — start a throwaway PostgreSQL 15 cluster for tests, listening on a free
# port of 127.0.0.1 only (trust auth), with its data, socket and log under DIR (default: a fresh
# mktemp dir), and a database named `stowage`.
#
# stdout (only, eval-able):  STOWAGE_TEST_PG_URL=postgres://postgres@127.0.0.1:PORT/stowage
#                            PG_DIR=DIR
# progress and errors go to stderr. Stop with: postgres-stop.sh DIR [--purge]
#
# Environment knobs (all optional):
#   PG_BIN          PostgreSQL binaries      (default /usr/lib/postgresql/15/bin)
#   PG_PORT         port to listen on        (default: a free one)
#   READY_TIMEOUT   seconds to wait for it   (default 60)
#   PG_NO_INSTALL=1 never run apt-get
#
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user (DIR is
# handed to it, and its ancestors made traversable); as any other user it runs as that user.
set -Eeuo pipefail

log() { printf '[postgres-start %s] %s\n' "$(date +%T)" "$*" >&2; }
MADE_TMP=""
RUNNING_DATA=""
die() {
  trap - ERR
  log "ERROR: $*"
  # Leave nothing running or half made behind.
  [ -n "$RUNNING_DATA" ] && as_owner "$PG_BIN/pg_ctl" -D "$RUNNING_DATA" stop -m immediate >/dev/null 2>&1
  [ -n "$MADE_TMP" ] && [ -d "$MADE_TMP" ] && rm -rf -- "$MADE_TMP"
  exit 1
}
trap 'die "unexpected failure at line $LINENO"' ERR

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
READY_TIMEOUT=${READY_TIMEOUT:-60}
MARK=.stowage-pg-throwaway
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

# ---------------------------------------------------------------- packages
if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
  [ "${PG_NO_INSTALL:-0}" = 1 ] && die "PostgreSQL is not installed in $PG_BIN (PG_NO_INSTALL=1)"
  log "installing PostgreSQL (Debian package postgresql)"
  "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" postgresql ||
    die "PostgreSQL 15 is not installed in $PG_BIN and could not be: install it, or set PG_BIN"
  [ -x "$PG_BIN/initdb" ] || die "the installed PostgreSQL is not in $PG_BIN (set PG_BIN to its bin directory)"
fi

# Runs a PostgreSQL binary as the cluster's owner.
as_owner() {
  if [ "$IS_ROOT" = 1 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$IS_ROOT" = 1 ]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to run the cluster as"
fi

# ---------------------------------------------------------------- directory
if [ $# -ge 1 ] && [ -n "$1" ]; then
  DIR=$1
  mkdir -p -- "$DIR"
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/stowage-pg.XXXXXX")
  MADE_TMP=$DIR
fi
DIR=$(cd "$DIR" && pwd -P)
# unix socket paths are limited to 107 bytes (".s.PGSQL.NNNNN" is appended to DIR/run)
[ ${#DIR} -le 80 ] || die "DIR path too long for the server's socket (${#DIR} > 80): $DIR"
DATA=$DIR/data
RUN=$DIR/run
LOG=$DIR/postgres.log

if [ -f "$DIR/$MARK" ]; then
  # idempotent re-run on a dir this script made before
  if [ -f "$DIR/env" ] && as_owner "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    log "cluster in $DIR already running"
    cat "$DIR/env"
    exit 0
  fi
  log "stale cluster in $DIR: starting afresh"
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  rm -rf -- "$DATA" "$RUN" "$LOG" "$DIR/env"
elif [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR is not empty and was not made by this script"
fi
touch "$DIR/$MARK"
mkdir -p "$RUN"

if [ "$IS_ROOT" = 1 ]; then
  chown -R postgres: "$DIR"
  chmod 0700 "$DIR"
  # The postgres user must be able to reach DIR: let it traverse (not list) each ancestor.
  parent=$(dirname "$DIR")
  while [ "$parent" != / ]; do
    if ! runuser -u postgres -- test -x "$parent"; then
      log "making $parent traversable for the postgres user (chmod o+x)"
      chmod o+x "$parent"
    fi
    parent=$(dirname "$parent")
  done
fi

# ---------------------------------------------------------------- cluster
log "initdb in $DATA"
as_owner "$PG_BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
  die "initdb failed: $(tail -n 5 "$DIR/initdb.log")"

cat >"$DATA/pg_hba.conf" <<HBA
# throwaway test cluster: trust on the local socket and 127.0.0.1 only
local all all trust
host  all all 127.0.0.1/32 trust
HBA

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
  elif command -v node >/dev/null 2>&1; then
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
  else
    echo $((20000 + RANDOM % 20000))
  fi
}

started=0
for try in 1 2 3 4 5; do
  PORT=${PG_PORT:-$(free_port)}
  cat >"$DATA/postgresql.auto.conf" <<CONF
# written by postgres-start.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
log_min_messages = warning
CONF
  [ "$IS_ROOT" = 1 ] && chown postgres: "$DATA/postgresql.auto.conf" "$DATA/pg_hba.conf"
  log "starting PostgreSQL on 127.0.0.1:$PORT (try $try)"
  if as_owner "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$READY_TIMEOUT" start >/dev/null 2>&1; then
    started=1
    RUNNING_DATA=$DATA
    break
  fi
  log "PostgreSQL did not start on port $PORT: $(tail -n 3 "$LOG" 2>/dev/null | tr '\n' ' ')"
  as_owner "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  [ -n "${PG_PORT:-}" ] && break
done
[ "$started" = 1 ] || die "PostgreSQL would not start (its log is quoted above)"

deadline=$(($(date +%s) + READY_TIMEOUT))
until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres; do
  [ "$(date +%s)" -lt "$deadline" ] || die "PostgreSQL on 127.0.0.1:$PORT not ready after ${READY_TIMEOUT}s: $(tail -n 3 "$LOG" 2>/dev/null | tr '\n' ' ')"
  sleep 0.2
done

"$PG_BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -c 'CREATE DATABASE stowage' >&2 ||
  die "could not create the database stowage"

{
  echo "STOWAGE_TEST_PG_URL=postgres://postgres@127.0.0.1:$PORT/stowage"
  echo "PG_DIR=$DIR"
} >"$DIR/env"
[ "$IS_ROOT" = 1 ] && chown postgres: "$DIR/env"
log "ready: postgres://postgres@127.0.0.1:$PORT/stowage (stop with scripts/services/postgres-stop.sh $DIR --purge)"
cat "$DIR/env"
