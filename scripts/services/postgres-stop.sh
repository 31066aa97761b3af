#!/usr/bin/env bash
# postgres-stop.sh DIR [--purge] — stop the cluster postgres-start.sh started in DIR (pg_ctl stop
# -m fast, as the user that owns it). --purge also removes DIR (only if it carries the start
# script's marker).
set -Euo pipefail

log() { printf '[postgres-stop %s] %s\n' "$(date +%T)" "$*" >&2; }

DIR=${1:?usage: postgres-stop.sh DIR [--purge]}
PURGE=${2:-}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -d "$DIR" ] || { log "no such dir $DIR"; exit 1; }
DIR=$(cd "$DIR" && pwd -P)
DATA=$DIR/data
MARK=.stowage-pg-throwaway

as_owner() {
  if [ "$(id -u)" = 0 ] && [ "$(stat -c %U "$DATA")" != root ]; then
    runuser -u "$(stat -c %U "$DATA")" -- "$@"
  else
    "$@"
  fi
}

if [ -f "$DATA/postmaster.pid" ]; then
  if as_owner "$PG_BIN/pg_ctl" -D "$DATA" -w -t 30 stop -m fast >/dev/null 2>&1; then
    log "stopped the cluster in $DATA"
  else
    log "pg_ctl stop failed; stopping immediately"
    as_owner "$PG_BIN/pg_ctl" -D "$DATA" -w -t 30 stop -m immediate >/dev/null 2>&1 || log "could not stop the cluster in $DATA"
  fi
else
  log "no cluster running in $DATA"
fi

if [ "$PURGE" = --purge ]; then
  if [ -f "$DIR/$MARK" ]; then
    rm -rf -- "$DIR" && log "removed $DIR"
  else
    log "$DIR has no postgres-start marker; not removing"
  fi
fi
exit 0
