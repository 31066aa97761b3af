#!/usr/bin/env bash
# scripts/services/apt-install.sh PACKAGE... — installs Debian packages non-interactively, as root
# or through sudo -n, for the scripts that find or start what the tests drive (chromium.sh,
# s3-tools.sh, postgres-start.sh, rgw-start.sh). apt's own output is kept and shown (its last
# lines) only when it fails.
# Exits 1 with the reason when it cannot install: not root and no sudo, no apt-get, apt failed.
set -Eeuo pipefail

die() {
  printf '[apt-install] ERROR: %s\n' "$*" >&2
  exit 1
}

[ $# -gt 0 ] || die "usage: scripts/services/apt-install.sh PACKAGE..."
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  die "installing $* needs root: run 'apt-get install $*' as root"
fi
command -v apt-get >/dev/null 2>&1 || die "there is no apt-get to install $* with"

apt_log=$(mktemp /tmp/apt-install.XXXXXX)
trap 'rm -f "$apt_log"' EXIT
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$apt_log" 2>&1 ||
  die "apt-get update failed: $(tail -5 "$apt_log")"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$apt_log" 2>&1 ||
  die "apt-get install $* failed: $(tail -5 "$apt_log")"
