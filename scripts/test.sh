#!/usr/bin/env bash
# Runs every test twice over: on the embedded deployment (SQLite + files), then on the scale-out
# one (PostgreSQL + an S3 store, Ceph RGW here); the embedded pass runs on the default Node and
# again on Node 24 (scripts/node24.sh). The client's suite also runs over both of its HTTP
# transports (undici, then fetch: STOWAGE_HTTP_TRANSPORT). The services are throwaway ones started from
# scripts/services/ on free loopback ports and stopped on exit, whatever happens.
#
#   scripts/test.sh [test files...] [--node-flags]
#
# STOWAGE_TEST_SCALE_OUT=0 runs the embedded pass only. When PostgreSQL or Ceph cannot be started
# (not root and not installed), the scale-out pass is skipped with a warning, unless
# STOWAGE_TEST_SCALE_OUT=1 makes that an error (CI sets it).
#
# The browser tests drive a headless Chromium: scripts/services/chromium.sh finds one (installing
# Debian's package when missing and root) and its path goes to the tests as STOWAGE_TEST_CHROMIUM.
# When there is none, the browser tests are skipped with a reason, unless STOWAGE_TEST_BROWSER=1
# makes that an error (CI sets it), as is a STOWAGE_TEST_CHROMIUM that is not a binary;
# STOWAGE_TEST_BROWSER=0 skips them without looking.
#
# The S3 compatibility tests drive the AWS CLI, rclone, boto3 and s3cmd: scripts/services/s3-tools.sh
# checks for them (installing Debian's packages when missing and root). When one is missing, the
# tests of that tool are skipped with a reason, unless STOWAGE_TEST_S3_TOOLS=1 makes that an error
# (CI sets it); STOWAGE_TEST_S3_TOOLS=0 skips them without looking. The same setting covers the
# Python data libraries (pyarrow, polars, pandas) that scripts/services/data-tools.sh installs into
# a venv of their own with pip; its python goes to the tests as STOWAGE_TEST_DATA_PYTHON.
#
# The read offload tests put nginx in front of a server: scripts/services/nginx.sh finds one
# (installing Debian's nginx-light when missing and root) and its path goes to the tests as
# STOWAGE_TEST_NGINX_BIN. Without one they are skipped with a reason, unless STOWAGE_TEST_NGINX=1
# makes that an error (CI sets it); STOWAGE_TEST_NGINX=0 skips them without looking.
#
# The client's tests in Bun and Deno (packages/client/test/other-runtimes.test.ts) run the pinned
# versions that scripts/services/runtime.sh installs from the npm registry into a cache; their paths
# go to the tests as STOWAGE_TEST_BUN and STOWAGE_TEST_DENO. When one cannot be had, its test is
# skipped with a reason, unless STOWAGE_TEST_RUNTIMES=1 makes that an error (CI sets it);
# STOWAGE_TEST_RUNTIMES=0 skips them without looking.
#
# The Python client's suite (clients/python/tests, run from packages/client/test/python-client.test.ts
# on each pass) needs a venv that scripts/services/python-client.sh makes under
# node_modules/.cache with pip, installing this checkout's clients/python into it. When python3 has
# no venv and it cannot be installed, those tests are skipped with a reason, unless
# STOWAGE_TEST_PYTHON_CLIENT=1 makes that an error (CI sets it); STOWAGE_TEST_PYTHON_CLIENT=0 skips them.
#
# The Node 24 pass fetches Node 24 from the npm registry and builds better-sqlite3 for it (cached,
# see scripts/node24.sh). When that fails, the pass is skipped with a warning, unless
# STOWAGE_TEST_NODE24=1 makes that an error (CI sets it); STOWAGE_TEST_NODE24=0 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."

services_dir=""
pg_dir=""
ceph_dir=""
stop_services() {
  [ -n "$ceph_dir" ] && scripts/services/rgw-stop.sh "$ceph_dir" --purge >/dev/null 2>&1 || true
  [ -n "$pg_dir" ] && scripts/services/postgres-stop.sh "$pg_dir" --purge >/dev/null 2>&1 || true
  [ -n "$services_dir" ] && rm -rf "$services_dir" || true
}
trap stop_services EXIT
trap 'exit 130' INT TERM

start_services() {
  services_dir=$(mktemp -d /tmp/stowage-svc.XXXXXX)
  local out
  out=$(scripts/services/postgres-start.sh "$services_dir/pg") || return 1
  pg_dir="$services_dir/pg"
  set -a; eval "$out"; set +a
  # The OSD keeps objects in RAM (about twice their size) and refuses writes once ~95% of its
  # nominal size is used: 6 GiB leaves room for the largest tests' live data.
  out=$(MEMSTORE_BYTES=${MEMSTORE_BYTES:-6442450944} scripts/services/rgw-start.sh "$services_dir/ceph") || return 1
  ceph_dir="$services_dir/ceph"
  set -a; eval "$out"; set +a
}

# Finds a tool with the command given (which prints its path) and exports the path as VARIABLE.
# MODE 0 does not look, 1 makes a tool not found an error, anything else (auto) a warning.
#   export_tool MODE VARIABLE TOOL TESTS COMMAND...
export_tool() {
  local mode=$1 variable=$2 tool=$3 tests=$4 found
  shift 4
  [ "$mode" = 0 ] && return 0
  if found=$("$@"); then
    export "$variable=$found"
  elif [ "$mode" = 1 ]; then
    echo "scripts/test.sh: could not find or install $tool for $tests" >&2
    exit 1
  else
    echo "scripts/test.sh: WARNING: no $tool; $tests are skipped" >&2
  fi
}

browser=${STOWAGE_TEST_BROWSER:-auto}
# A STOWAGE_TEST_CHROMIUM that is not a binary is an error.
[ "$browser" != 0 ] && [ -n "${STOWAGE_TEST_CHROMIUM:-}" ] && browser=1
export_tool "$browser" STOWAGE_TEST_CHROMIUM Chromium "the browser tests" scripts/services/chromium.sh

s3_tools=${STOWAGE_TEST_S3_TOOLS:-auto}
if [ "$s3_tools" != 0 ] && ! scripts/services/s3-tools.sh; then
  if [ "$s3_tools" = 1 ]; then
    echo "scripts/test.sh: could not find or install the AWS CLI, rclone and boto3 for the S3 tool tests" >&2
    exit 1
  fi
  echo "scripts/test.sh: WARNING: an S3 tool is missing; its tests are skipped" >&2
fi
if [ "$s3_tools" != 0 ]; then
  if data_python=$(scripts/services/data-tools.sh); then
    export STOWAGE_TEST_DATA_PYTHON="$data_python"
  elif [ "$s3_tools" = 1 ]; then
    echo "scripts/test.sh: could not find or install pyarrow, polars and pandas for the S3 data library tests" >&2
    exit 1
  else
    echo "scripts/test.sh: WARNING: pyarrow, polars or pandas is missing; their tests are skipped" >&2
  fi
fi

export_tool "${STOWAGE_TEST_NGINX:-auto}" STOWAGE_TEST_NGINX_BIN nginx "the read offload tests through nginx" scripts/services/nginx.sh
export_tool "${STOWAGE_TEST_RUNTIMES:-auto}" STOWAGE_TEST_BUN Bun "the client's tests in Bun" scripts/services/runtime.sh bun
export_tool "${STOWAGE_TEST_RUNTIMES:-auto}" STOWAGE_TEST_DENO Deno "the client's tests in Deno" scripts/services/runtime.sh deno

scale_out=${STOWAGE_TEST_SCALE_OUT:-auto}
if [ "$scale_out" != 0 ] && [ -z "${STOWAGE_TEST_PG_URL:-}" ]; then
  if ! start_services; then
    if [ "$scale_out" = 1 ]; then
      echo "scripts/test.sh: could not start PostgreSQL and Ceph RGW for the scale-out tests" >&2
      exit 1
    fi
    echo "scripts/test.sh: WARNING: PostgreSQL or Ceph RGW could not be started; only the embedded deployment is tested" >&2
    scale_out=0
  fi
fi

echo "== embedded deployment (SQLite index + blob files), and the engine contract suites" >&2
node scripts/run-tests.mjs "$@"

# The client suite ran over undici (the Node client's default); once more over fetch, the
# transport of every other runtime: the client test files asked for, or all of them.
client_tests=()
flags=()
other_args=0
for arg in "$@"; do
  case "$arg" in
    packages/client/test/*) client_tests+=("$arg") ;;
    --deployment-suites) ;;
    --*) flags+=("$arg") ;;
    *) other_args=1 ;;
  esac
done
if [ ${#client_tests[@]} -gt 0 ] || [ "$other_args" = 0 ]; then
  echo "== the client's suite over the fetch transport" >&2
  if [ ${#client_tests[@]} -eq 0 ]; then
    # The Python client's suite, and the client in other runtimes, do not go through this
    # process's transport: once is enough.
    for file in packages/client/test/*.test.ts; do
      case "$file" in
        packages/client/test/python-client.test.ts | packages/client/test/other-runtimes.test.ts) ;;
        *) client_tests+=("$file") ;;
      esac
    done
  fi
  STOWAGE_HTTP_TRANSPORT=fetch node scripts/run-tests.mjs "${flags[@]}" "${client_tests[@]}"
fi

node24=${STOWAGE_TEST_NODE24:-auto}
if [ "$node24" != 0 ]; then
  echo "== embedded deployment on Node 24" >&2
  if ! node24_out=$(scripts/node24.sh --prepare 2>&1); then
    if [ "$node24" = 1 ]; then
      echo "$node24_out" >&2
      echo "scripts/test.sh: could not get Node 24 or build better-sqlite3 for it" >&2
      exit 1
    fi
    echo "$node24_out" | tail -n 5 >&2
    echo "scripts/test.sh: WARNING: no Node 24 (above); the Node 24 pass is skipped" >&2
  else
    scripts/node24.sh "$@"
  fi
fi

if [ "$scale_out" != 0 ]; then
  echo "== scale-out deployment (PostgreSQL index + S3 blobs on Ceph RGW)" >&2
  # The packages installed from their tarballs are the same whatever the deployment.
  STOWAGE_TEST_PACKAGES=0 STOWAGE_TEST_DEPLOYMENT=postgres-s3 node scripts/run-tests.mjs --deployment-suites "$@"
fi
