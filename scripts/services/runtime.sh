#!/usr/bin/env bash
# scripts/services/runtime.sh — prints the path of a Bun or Deno binary for the client's tests in
# other runtimes (packages/client/test/other-runtimes.test.ts), installing the pinned version from
# the npm registry (the `bun` and `deno` packages carry the binaries) into a cache when needed.
#
#   scripts/services/runtime.sh bun|deno
#
# stdout (only): the binary's absolute path. Progress and errors go to stderr; exits non-zero when
# it cannot be installed. The cache is STOWAGE_RUNTIMES_CACHE (default ~/.cache/stowage-runtimes),
# one directory per package and version.
set -Eeuo pipefail

declare -A PINNED=([bun]=1.4.5 [deno]=2.9.6)
name=${1:-}
version=${PINNED[$name]:-}
[ -n "$version" ] || { echo "usage: $0 bun|deno" >&2; exit 2; }

cache=${STOWAGE_RUNTIMES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stowage-runtimes}
dir="$cache/$name-$version"
binary="$dir/node_modules/.bin/$name"
if [ ! -x "$binary" ] || ! "$binary" --version >/dev/null 2>&1; then
  echo "scripts/services/runtime.sh: installing $name $version from the npm registry" >&2
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  npm install --prefix "$dir.tmp" --no-save --no-audit --no-fund --no-package-lock --silent "$name@$version" >&2
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  "$binary" --version >/dev/null
fi
echo "$binary"
