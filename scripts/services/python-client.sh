#!/usr/bin/env bash
# scripts/services/python-client.sh — a venv with this checkout's Python client (clients/python and
# its descarteslabs import paths, clients/python/compat) installed, for the tests that run its
# pytest suite and the README's Python example. The venv holds requests, urllib3 and pytest from pip
# (created once); the two packages are rebuilt from the source on every run (a few seconds), so the
# tests always exercise the code as checked out, installed the way a user installs it.
#
# stdout: the venv's python binary. stderr: what was installed, or why it could not be.
# Exits non-zero when the venv cannot be made (no python3 with venv, and not root to install it).
#
# Environment knobs (all optional):
#   STOWAGE_PYTHON_CLIENT_VENV  where the venv goes (default node_modules/.cache/stowage-python-client)
set -Eeuo pipefail
# pypi.org may be out of reach (a local mirror then serves): fail over to it at once, not after retries.
export PIP_RETRIES=${PIP_RETRIES:-0}

log() { printf '[python-client] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv=${STOWAGE_PYTHON_CLIENT_VENV:-$root/node_modules/.cache/stowage-python-client}
python=$venv/bin/python
pip_log=$(mktemp /tmp/python-client.XXXXXX)
trap 'rm -f "$pip_log"' EXIT

if ! { [ -x "$python" ] && "$python" -c 'import requests, urllib3, pytest, setuptools, wheel' >/dev/null 2>&1; }; then
  if ! { command -v python3 >/dev/null 2>&1 && python3 -m venv --help >/dev/null 2>&1; }; then
    # Debian's python3 comes without venv (and pip) until these are installed.
    log "installing python3-venv (Debian package)"
    "$root/scripts/services/apt-install.sh" python3-venv python3-pip || die "no python3 with venv, and python3-venv could not be installed"
  fi
  log "creating $venv with requests, urllib3 and pytest"
  python3 -m venv --clear "$venv" >"$pip_log" 2>&1 || die "python3 -m venv $venv failed: $(tail -5 "$pip_log")"
  "$python" -m pip install --quiet requests urllib3 pytest setuptools wheel >"$pip_log" 2>&1 ||
    die "pip install requests urllib3 pytest failed: $(tail -5 "$pip_log")"
fi

# Built out of tree, so that the checkout gains no build/ or egg-info folders.
build=$(mktemp -d /tmp/python-client-build.XXXXXX)
trap 'rm -f "$pip_log"; rm -rf "$build"' EXIT
for package in clients/python clients/python/compat; do
  cp -r "$root/$package/." "$build/$(basename "$package")"
done
"$python" -m pip install --quiet --no-deps --no-build-isolation --force-reinstall "$build/python" "$build/compat" >"$pip_log" 2>&1 ||
  die "pip install clients/python clients/python/compat failed: $(tail -5 "$pip_log")"
log "$("$python" -c 'import stowage, requests, urllib3, pytest, sys; print(f"stowage {stowage.__version__}, requests {requests.__version__}, urllib3 {urllib3.__version__}, pytest {pytest.__version__}, Python {sys.version.split()[0]}")') ($python)"
echo "$python"
