#!/usr/bin/env bash
# scripts/services/rgw-stop.sh DIR [--purge] — stop the Ceph daemons rgw-start.sh started in
# DIR, by the PIDs it recorded in DIR/pids (and only if that PID's command line still names
# DIR/ceph.conf, so a recycled PID is never signalled): radosgw, then the OSD, then the monitor,
# TERM then KILL after 10 s. --purge also removes DIR afterwards (only if it carries
# rgw-start.sh's marker file).
set -uo pipefail

DIR=${1:?usage: rgw-stop.sh DIR [--purge]}
PURGE=${2:-}
[ -d "$DIR" ] || { echo "rgw-stop: no such dir $DIR" >&2; exit 1; }
DIR=$(cd "$DIR" && pwd -P)
CONF=$DIR/ceph.conf
PIDS=$DIR/pids

ours() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null | grep -qF -- "$CONF"; }

if [ -f "$PIDS" ]; then
  # stop in reverse start order: radosgw, osd, mon
  mapfile -t lines < <(tac "$PIDS")
  for line in "${lines[@]}"; do
    name=${line% *}; pid=${line##* }
    if ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null && echo "rgw-stop: TERM $name ($pid)" >&2
      for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.2; done
      if ours "$pid"; then
        kill -KILL "$pid" 2>/dev/null && echo "rgw-stop: KILL $name ($pid)" >&2
      fi
    fi
  done
  : >"$PIDS"
else
  echo "rgw-stop: no pid file in $DIR" >&2
fi

if [ "$PURGE" = --purge ]; then
  if [ -f "$DIR/.ceph-rgw-throwaway" ]; then
    rm -rf -- "$DIR" && echo "rgw-stop: removed $DIR" >&2
  else
    echo "rgw-stop: $DIR has no rgw-start.sh marker; not removing" >&2
  fi
fi
exit 0
