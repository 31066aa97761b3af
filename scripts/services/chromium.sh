#!/usr/bin/env bash
# scripts/services/chromium.sh — prints the path of a Chromium binary for the browser tests,
# installing Debian's `chromium` package with apt-get when none is found (as root, or through
# sudo -n). Playwright drives this binary (playwright-core downloads no browser of its own).
#
# stdout (only): the binary's absolute path, e.g. /usr/bin/chromium
# Progress and errors go to stderr; exits non-zero when no Chromium can be found or installed.
#
# Environment knobs (all optional):
#   STOWAGE_TEST_CHROMIUM  a binary to use as is (checked, never installed over)
#   CHROMIUM_NO_INSTALL=1  never run apt-get
set -Eeuo pipefail

log() { printf '[chromium %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

find_chromium() {
  local candidate
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/lib/chromium/chromium; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ -n "${STOWAGE_TEST_CHROMIUM:-}" ]; then
  [ -x "$STOWAGE_TEST_CHROMIUM" ] || die "STOWAGE_TEST_CHROMIUM=$STOWAGE_TEST_CHROMIUM is not an executable file"
  echo "$STOWAGE_TEST_CHROMIUM"
  exit 0
fi

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

[ "${CHROMIUM_NO_INSTALL:-0}" = 1 ] && die "Chromium is not installed (CHROMIUM_NO_INSTALL=1)"
log "installing Chromium (Debian package chromium)"
started=$SECONDS
"$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" chromium || die "Chromium is not installed and could not be: install it, or set STOWAGE_TEST_CHROMIUM to a Chromium binary"
path=$(find_chromium) || die "the chromium package is installed but no chromium binary was found"
log "installed $path in $((SECONDS - started)) s"
echo "$path"
