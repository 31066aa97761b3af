#!/usr/bin/env bash
# scripts/services/rgw-start.sh [DIR] — a throwaway single-node Ceph cluster serving S3 for the
# scale-out tests: 1 mon, 1 OSD (memstore or bluestore), 1 radosgw (beast), no mgr, auth none,
# bound to 127.0.0.1 only, every file under DIR (default: a fresh mktemp dir). Installs Debian's
# Ceph packages with apt-get when they are missing (as root, or through sudo -n).
#
# stdout (only, eval-able):
#   S3_ENDPOINT=... S3_ACCESS_KEY=... S3_SECRET_KEY=... S3_REGION=... CEPH_DIR=...
#   STOWAGE_TEST_S3_ENDPOINT=... STOWAGE_TEST_S3_ACCESS_KEY=... STOWAGE_TEST_S3_SECRET_KEY=...
#   STOWAGE_TEST_S3_REGION=...   (the same values, under the names the test suites read)
# Progress and errors go to stderr. PIDs go to DIR/pids ("name pid" lines).
# Stop with: scripts/services/rgw-stop.sh DIR [--purge]
#
# Environment knobs (all optional):
#   RGW_PORT        S3 port (default: 17480, or the next free port above it when busy)
#   MON_PORT        monitor msgr2 port (default: 13300, or the next free port above it)
#                   A port set explicitly that is busy is an error.
#   OSD_PORT_MIN/MAX  port range for the OSD     (default 16800/16899)
#   OSD_BACKEND     memstore (default: data in RAM, ~3 s to ready, RSS grows
#                   ~2 bytes per byte stored) or bluestore (sparse file in DIR,
#                   ~6 s to ready, RAM flat at ~200 MB whatever is stored)
#   MEMSTORE_BYTES  memstore's capacity           (default 1 GiB; past ~95% of it the OSD is
#                   full and writes hang; RAM use is about twice what is stored)
#   BLUESTORE_BYTES size of the sparse bluestore file (default 10 GiB)
#   CEPH_GLIBC_TUNABLES  GLIBC_TUNABLES for the daemons (default: fixed malloc
#                   mmap threshold, keeps radosgw ~50 MB instead of ~160 MB)
#   KEEP_ON_FAIL=1  leave daemons running when bootstrap fails (debugging)
#   S3_ACCESS_KEY / S3_SECRET_KEY  keys for the test user (default: random)
#   READY_TIMEOUT   seconds to wait for S3       (default 180)
#   CEPH_NO_INSTALL=1  never run apt-get
set -Eeuo pipefail

log() { printf '[rgw-start %s] %s\n' "$(date +%T)" "$*" >&2; }
MADE_TMP=""
die() {
  log "ERROR: $*"
  [ -n "$MADE_TMP" ] && [ -d "$MADE_TMP" ] && rm -rf -- "$MADE_TMP"
  exit 1
}

RGW_PORT_SET=${RGW_PORT:+1}
MON_PORT_SET=${MON_PORT:+1}
RGW_PORT=${RGW_PORT:-17480}
MON_PORT=${MON_PORT:-13300}
OSD_PORT_MIN=${OSD_PORT_MIN:-16800}
OSD_PORT_MAX=${OSD_PORT_MAX:-16899}
OSD_BACKEND=${OSD_BACKEND:-memstore}
MEMSTORE_BYTES=${MEMSTORE_BYTES:-1073741824}
BLUESTORE_BYTES=${BLUESTORE_BYTES:-10737418240}
READY_TIMEOUT=${READY_TIMEOUT:-180}
MARK=.ceph-rgw-throwaway

T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

# ---------------------------------------------------------------- packages
need_cmds="ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool"
missing=""
for c in $need_cmds; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
if [ -n "$missing" ]; then
  [ "${CEPH_NO_INSTALL:-0}" = 1 ] && die "missing:$missing (CEPH_NO_INSTALL=1)"
  log "installing Ceph packages (missing:$missing)"
  ti=$(date +%s)
  "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" ceph-mon ceph-osd radosgw ceph-common ||
    die "missing:$missing, and the Ceph packages could not be installed"
  log "packages installed in $(( $(date +%s) - ti ))s"
fi

# ---------------------------------------------------------------- directory
if [ $# -ge 1 ] && [ -n "$1" ]; then
  DIR=$1
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceph-rgw.XXXXXX")
  MADE_TMP=$DIR
fi
DIR=$(cd "$DIR" && pwd -P)
# unix socket paths are limited to 107 bytes
[ ${#DIR} -le 60 ] || die "DIR path too long for admin sockets (${#DIR} > 60): $DIR"
CONF=$DIR/ceph.conf

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' </proc/"$1"/cmdline 2>/dev/null | grep -qF -- "$CONF"; }

s3_answers() {
  # anonymous GET / -> RGW answers 200 with an empty ListAllMyBucketsResult
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$RGW_PORT/" 2>/dev/null | grep -q '^200$'
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$RGW_PORT" &&
      printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
      timeout 2 head -c 12 <&3 | grep -q ' 200') 2>/dev/null
  fi
}

if [ -f "$DIR/$MARK" ]; then
  # idempotent re-run on a dir we made before
  all_alive=1
  if [ -f "$DIR/pids" ]; then
    while read -r _n p; do pid_alive "$p" || all_alive=0; done <"$DIR/pids"
  else
    all_alive=0
  fi
  if [ "$all_alive" = 1 ] && [ -f "$DIR/env" ]; then
    RGW_PORT=$(sed -n 's/^RGW_PORT=//p' "$DIR/env")
    if s3_answers; then
      log "cluster in $DIR already running"
      grep '^S3_\|^CEPH_DIR\|^STOWAGE_TEST_S3_' "$DIR/env"
      exit 0
    fi
  fi
  log "stale cluster state in $DIR: stopping leftovers and re-bootstrapping"
  if [ -f "$DIR/pids" ]; then
    while read -r _n p; do pid_alive "$p" && kill -9 "$p" 2>/dev/null || true; done <"$DIR/pids"
  fi
  rm -rf "${DIR:?}"/{mon,osd,rgw,run,log,tmp,ceph.conf,monmap,mon.keyring,pids,env}
elif [ -n "$(ls -A "$DIR")" ]; then
  die "$DIR is not empty and was not made by this script"
fi
touch "$DIR/$MARK"
mkdir -p "$DIR"/{mon/a,osd/0,rgw,run,log,tmp}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A default port that is busy (another cluster, another service) moves to the next free one;
# a port set explicitly is used as given or refused.
free_port_from() { # first_port avoid
  local p=$1
  while [ "$p" -lt $(( $1 + 200 )) ]; do
    if [ "$p" != "$2" ] && ! port_busy "$p"; then echo "$p"; return 0; fi
    p=$(( p + 1 ))
  done
  return 1
}
if port_busy "$RGW_PORT"; then
  [ -n "$RGW_PORT_SET" ] && die "127.0.0.1:$RGW_PORT already in use (set RGW_PORT)"
  RGW_PORT=$(free_port_from "$RGW_PORT" "$MON_PORT") || die "no free port for radosgw near $RGW_PORT (set RGW_PORT)"
  log "default S3 port busy; using $RGW_PORT"
fi
if port_busy "$MON_PORT"; then
  [ -n "$MON_PORT_SET" ] && die "127.0.0.1:$MON_PORT already in use (set MON_PORT)"
  MON_PORT=$(free_port_from "$MON_PORT" "$RGW_PORT") || die "no free port for the monitor near $MON_PORT (set MON_PORT)"
  log "default monitor port busy; using $MON_PORT"
fi

case "$OSD_BACKEND" in
  memstore) OSD_STORE_CONF="osd_objectstore = memstore
memstore_device_bytes = $MEMSTORE_BYTES" ;;
  bluestore) OSD_STORE_CONF="osd_objectstore = bluestore
# a sparse file inside DIR: disk is used only as data is written
bluestore_block_path = $DIR/osd/0.block
bluestore_block_create = true
bluestore_block_size = $BLUESTORE_BYTES
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
osd_memory_target = 939524096" ;;
  *) die "OSD_BACKEND must be memstore or bluestore" ;;
esac

FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)

cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_port_min = $OSD_PORT_MIN
ms_bind_port_max = $OSD_PORT_MAX
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw's built-in defaults force ms_mon_client_mode=secure, which needs
# cephx session keys; with auth none that fails with EACCES (-13)
ms_client_mode = crc
ms_mon_client_mode = crc
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
crash_dir = $DIR/tmp
log_to_stderr = false
err_to_stderr = true
debug_ms = 0/0
debug_monc = 0/0
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 1
mon_data_avail_crit = 0
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
mon_data = $DIR/mon/\$id
mon_initial_members = a
# commit map changes after 50 ms instead of batching for 1 s: every pool
# creation / OSD boot step waits for a commit, so this cuts bootstrap by ~15 s
paxos_propose_interval = 0.05

[osd]
osd_data = $DIR/osd/\$id
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
$OSD_STORE_CONF

[client]
log_file = $DIR/log/\$name.log

[client.admin]
log_file =
admin_socket =

[client.rgw.test]
rgw_data = $DIR/rgw
# tcp_nodelay=1: without it every response with a body waits ~40 ms (Nagle + delayed ACK)
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw_thread_pool_size = 32
rgw_enable_usage_log = false
# reclaim the tails of deleted/overwritten objects within ~1 min instead of
# after 2 h, so a long test run does not fill the RAM-backed OSD
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
rgw_gc_processor_max_time = 30
EOF

export CEPH_CONF=$CONF
: >"$DIR/pids"
record_pid() { echo "$1 $2" >>"$DIR/pids"; }

start_daemon() { # name logfile cmd...
  local name=$1 out=$2; shift 2
  setsid env GLIBC_TUNABLES="${CEPH_GLIBC_TUNABLES-glibc.malloc.mmap_threshold=131072}" \
    "$@" </dev/null >>"$out" 2>&1 &
  record_pid "$name" $!
  log "started $name (pid $!)"
}

fail_dump() {
  log "bootstrap failed; tails of logs in $DIR/log:"
  for f in "$DIR"/log/*; do echo "== $f" >&2; tail -n 15 "$f" >&2 || true; done
  if [ "${KEEP_ON_FAIL:-0}" != 1 ]; then
    while read -r n p; do
      pid_alive "$p" && kill -9 "$p" 2>/dev/null && log "killed $n ($p)"
    done <"$DIR/pids"
  fi
  exit 1
}
trap fail_dump ERR

# ---------------------------------------------------------------- monitor
CEPH_CONF=/dev/null ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
CEPH_CONF=/dev/null monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring" \
  >>"$DIR/log/mkfs.log" 2>&1
start_daemon mon.a "$DIR/log/mon.a.stdout" ceph-mon -c "$CONF" -f -i a

ceph_() { timeout 120 ceph -c "$CONF" --connect-timeout 20 "$@"; }
for _ in $(seq 1 60); do ceph_ mon stat >/dev/null 2>&1 && break; sleep 0.5; done
ceph_ mon stat >/dev/null || { log "monitor does not answer"; false; }
log "monitor up ($(elapsed)s)"

# ---------------------------------------------------------------- osd
OSD_ID=$(ceph_ osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || { log "unexpected osd id '$OSD_ID'"; false; }
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >>"$DIR/log/mkfs.log" 2>&1
start_daemon osd.0 "$DIR/log/osd.0.stdout" ceph-osd -c "$CONF" -f -i 0
for _ in $(seq 1 120); do
  ceph_ osd dump 2>/dev/null | grep -q '^osd.0 up' && break
  sleep 0.5
done
ceph_ osd dump | grep -q '^osd.0 up' || { log "osd.0 did not come up"; false; }
log "osd.0 up ($(elapsed)s)"

# ---------------------------------------------------------------- pools
# Pre-create the pools radosgw would otherwise create lazily (each lazy
# creation costs ~2 s on the first CreateBucket / PutObject / multipart).
# One `ceph` process reading commands from stdin (the CLI is slow to start).
{
  for pool in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
              default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
    echo "osd pool create $pool 8 8"
    echo "osd pool application enable $pool rgw"
  done
} | ceph_ >>"$DIR/log/pools.log" 2>&1
log "pools created ($(elapsed)s)"

# ---------------------------------------------------------------- radosgw
start_daemon client.rgw.test "$DIR/log/rgw.stdout" \
  radosgw -c "$CONF" -f -n client.rgw.test

deadline=$(( $(date +%s) + READY_TIMEOUT ))
until s3_answers; do
  [ "$(date +%s)" -lt "$deadline" ] || { log "S3 not answering after ${READY_TIMEOUT}s"; false; }
  while read -r n p; do pid_alive "$p" || { log "$n (pid $p) died"; false; }; done <"$DIR/pids"
  sleep 0.5
done
log "radosgw answers on 127.0.0.1:$RGW_PORT ($(elapsed)s)"

# ---------------------------------------------------------------- s3 user
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
ACCESS=${S3_ACCESS_KEY:-$(hex 10 | tr a-f A-F)}
SECRET=${S3_SECRET_KEY:-$(hex 20)}
timeout 60 radosgw-admin -c "$CONF" user create --uid=test --display-name="Test User" \
  --access-key="$ACCESS" --secret="$SECRET" >"$DIR/log/user-create.json" 2>>"$DIR/log/radosgw-admin.err"
log "S3 user 'test' created ($(elapsed)s)"
trap - ERR

cat >"$DIR/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_ACCESS_KEY=$ACCESS
S3_SECRET_KEY=$SECRET
S3_REGION=us-east-1
CEPH_DIR=$DIR
STOWAGE_TEST_S3_ENDPOINT=http://127.0.0.1:$RGW_PORT
STOWAGE_TEST_S3_ACCESS_KEY=$ACCESS
STOWAGE_TEST_S3_SECRET_KEY=$SECRET
STOWAGE_TEST_S3_REGION=us-east-1
CEPH_CONF=$CONF
RGW_PORT=$RGW_PORT
EOF
log "ready in $(elapsed)s; stop with: $(dirname "$0")/rgw-stop.sh $DIR"
grep '^S3_\|^CEPH_DIR\|^STOWAGE_TEST_S3_' "$DIR/env"
