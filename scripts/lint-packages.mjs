#!/usr/bin/env node
// Lints the packed packages as a registry would serve them: publint on the three tarballs, and
// Are The Types Wrong on the two libraries. Packs them first (scripts/pack-packages.mjs) into a
// temporary directory unless DIR already holds them; after `npm run build`:
//   node scripts/lint-packages.mjs [DIR]        (npm run lint:packages)
//
// attw profiles: stowage-client must resolve, with types, from CommonJS and ES modules alike under
// node16/nodenext and bundler resolution ("node16"; node10, which ignores "exports" and so every
// subpath, is left out). stowage-server is ESM only, like the CLI that runs it ("esm-only").
// The CLI exports nothing to import, so publint alone looks at it, as `npm pack -w packages/cli`
// makes it: its tarball also bundles third-party packages, whose own layouts are not ours to lint.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const version = (pkg) => JSON.parse(execFileSync('npm', ['pkg', 'get', 'version', '-w', pkg], { cwd: root, encoding: 'utf8' }))[pkg];

const given = process.argv[2] && path.resolve(process.argv[2]);
const dir = given ?? mkdtempSync(path.join(tmpdir(), 'stowage-lint-packages-'));
if (!given)
  execFileSync(process.execPath, [path.join(root, 'scripts', 'pack-packages.mjs'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });

const CHECKS = [
  { name: 'stowage-client', attwProfile: 'node16' },
  { name: 'stowage-server', attwProfile: 'esm-only' },
  { name: 'stowage', attwProfile: null, publintTarget: path.join(root, 'packages', 'cli') },
];

const failures = [];
try {
  for (const { name, attwProfile, publintTarget } of CHECKS) {
    const tarball = path.join(dir, `${name}-${version(name)}.tgz`);
    if (!existsSync(tarball)) throw new Error(`${tarball} is missing: pack the packages first (npm run pack)`);
    const runs = [[bin('publint'), 'run', '--strict', ...(publintTarget ? ['--pack', 'npm', publintTarget] : [tarball])]];
    if (attwProfile) runs.push([bin('attw'), '--profile', attwProfile, '--no-color', '--format', 'ascii', tarball]);
    for (const [command, ...args] of runs) {
      try {
        execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
        process.stdout.write(`ok  ${path.basename(command)} ${name}\n`);
      } catch (error) {
        failures.push(name);
        process.stdout.write(`FAIL ${path.basename(command)} ${name}\n${error.stdout}${error.stderr}\n`);
      }
    }
  }
} finally {
  if (!given) rmSync(dir, { recursive: true, force: true });
}
if (failures.length > 0) {
  process.stderr.write(`lint-packages: problems in ${[...new Set(failures)].join(', ')}\n`);
  process.exit(1);
}
