#!/usr/bin/env bash
# scripts/services/nginx.sh — prints the path of an nginx binary for the read offload tests
# (docs/deploy.md, "Read offload"), installing Debian's `nginx-light` package with apt-get when none
# is found (as root, or through sudo -n). The tests start it themselves, as the current user.
#
# stdout (only): the binary's absolute path, e.g. /usr/sbin/nginx
# Progress and errors go to stderr; exits non-zero when no nginx can be found or installed.
#
# Environment knobs (all optional):
#   STOWAGE_TEST_NGINX_BIN  a binary to use as is (checked, never installed over)
#   NGINX_NO_INSTALL=1      never run apt-get
set -Eeuo pipefail

log() { printf '[nginx %s] %s\n' "$(date +%T)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

find_nginx() {
  if command -v nginx >/dev/null 2>&1; then
    command -v nginx
    return 0
  fi
  for candidate in /usr/sbin/nginx /usr/local/sbin/nginx; do
    if [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if [ -n "${STOWAGE_TEST_NGINX_BIN:-}" ]; then
  [ -x "$STOWAGE_TEST_NGINX_BIN" ] || die "STOWAGE_TEST_NGINX_BIN=$STOWAGE_TEST_NGINX_BIN is not an executable file"
  echo "$STOWAGE_TEST_NGINX_BIN"
  exit 0
fi

if path=$(find_nginx); then
  echo "$path"
  exit 0
fi

[ "${NGINX_NO_INSTALL:-0}" = 1 ] && die "nginx is not installed (NGINX_NO_INSTALL=1)"
log "installing nginx (Debian package nginx-light)"
"$(dirname "${BASH_SOURCE[0]}")/apt-install.sh" nginx-light || die "nginx is not installed and could not be: install it, or set STOWAGE_TEST_NGINX_BIN"
path=$(find_nginx) || die "the nginx-light package is installed but no nginx binary was found"
echo "$path"
