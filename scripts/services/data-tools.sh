#!/usr/bin/env bash
# scripts/services/data-tools.sh — makes sure the Python data libraries the S3 compatibility tests
# drive are there: pyarrow (its S3FileSystem is the AWS C++ SDK), polars (Rust's object_store) and
# pandas. They go into a virtual environment of their own, created with pip on first use, so that
# the tests run the libraries' current releases with their default settings, whatever the
# machine's python3 has installed.
#
# stdout: the venv's python binary (what the tests take as STOWAGE_TEST_DATA_PYTHON).
# stderr: a line with the libraries' versions, e.g.
#   [data-tools] pyarrow 25.0.0 polars 1.44.0 pandas 2.3.3 Python 3.11.7 (/root/.cache/stowage/data-tools/bin/python)
# and what was installed, or why they are missing. Exits non-zero when they cannot be installed.
#
# The tests find the same python the same way (packages/server/test/helpers/data-tools.ts):
# STOWAGE_TEST_DATA_PYTHON when set, else the venv's python.
#
# Environment knobs (all optional):
#   STOWAGE_TEST_DATA_PYTHON  a python that imports pyarrow, polars and pandas, used as it is
#   STOWAGE_DATA_TOOLS_VENV   where the venv goes (default ${XDG_CACHE_HOME:-$HOME/.cache}/stowage/data-tools)
#   DATA_TOOLS_NO_INSTALL=1   never run pip
set -Eeuo pipefail
# pypi.org may be out of reach (a local mirror then serves): fail over to it at once, not after retries.
export PIP_RETRIES=${PIP_RETRIES:-0}

log() { printf '[data-tools] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

imports='import pyarrow, pyarrow.fs, polars, pandas'
venv=${STOWAGE_DATA_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/stowage/data-tools}

if [ -n "${STOWAGE_TEST_DATA_PYTHON:-}" ]; then
  python=$STOWAGE_TEST_DATA_PYTHON
  "$python" -c "$imports" >/dev/null 2>&1 || die "STOWAGE_TEST_DATA_PYTHON=$python cannot import pyarrow, polars and pandas"
else
  python=$venv/bin/python
  if ! { [ -x "$python" ] && "$python" -c "$imports" >/dev/null 2>&1; }; then
    [ "${DATA_TOOLS_NO_INSTALL:-0}" = 1 ] && die "no venv with pyarrow, polars and pandas at $venv (DATA_TOOLS_NO_INSTALL=1, so not installed)"
    if ! { command -v python3 >/dev/null 2>&1 && python3 -m venv --help >/dev/null 2>&1; }; then
      # Debian's python3 comes without venv (and pip) until these are installed.
      log "installing python3-venv (Debian package)"
      "$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" python3-venv python3-pip || die "no python3 with venv, and python3-venv could not be installed"
    fi
    base=$(command -v python3 2>/dev/null) || die "there is no python3 to create $venv with"
    log "installing pyarrow, polars and pandas into $venv"
    started=$SECONDS
    pip_log=$(mktemp /tmp/data-tools.XXXXXX)
    trap 'rm -f "$pip_log"' EXIT
    "$base" -m venv --clear "$venv" >"$pip_log" 2>&1 || die "python3 -m venv $venv failed: $(tail -5 "$pip_log")"
    "$python" -m pip install --quiet pyarrow polars pandas >"$pip_log" 2>&1 ||
      die "pip install pyarrow polars pandas failed: $(tail -5 "$pip_log")"
    log "installed in $((SECONDS - started)) s"
  fi
fi

versions=$("$python" -c 'import pyarrow, polars, pandas, sys; print(f"pyarrow {pyarrow.__version__} polars {polars.__version__} pandas {pandas.__version__} Python {sys.version.split()[0]}")' 2>&1) ||
  die "$python cannot report the libraries' versions: $versions"
log "$versions ($python)"
echo "$python"
