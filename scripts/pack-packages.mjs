#!/usr/bin/env node
// Packs stowage-client, stowage-server and stowage (the CLI) into DIR (default: tarballs/), after
// `npm run build`, and prints the three tarballs' paths:
//   node scripts/pack-packages.mjs [DIR]        (npm run pack)
// The CLI's tarball carries the client and server tarballs' contents (bundleDependencies): neither
// is on a registry, and `npm i -g` of one tarball resolves its dependencies there. The bundled
// packages' own dependencies become the CLI's, so npm installs them from the registry beside them.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'tarballs'));
const BUNDLED = ['stowage-client', 'stowage-server'];
mkdirSync(out, { recursive: true });

const readManifest = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

/** `npm pack` in cwd with extra arguments; the tarballs' file names. */
function npmPack(cwd, args) {
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(json).map((packed) => packed.filename);
}

const [clientTarball, serverTarball] = npmPack(root, ['-w', 'packages/client', '-w', 'packages/server']);

const staging = mkdtempSync(path.join(tmpdir(), 'stowage-pack-cli-'));
try {
  const cliDir = path.join(root, 'packages', 'cli');
  const cli = readManifest(cliDir);
  // npm pack applies the files list's exclusions to the copy.
  for (const entry of cli.files.filter((entry) => !entry.startsWith('!'))) {
    cpSync(path.join(cliDir, entry), path.join(staging, entry), { recursive: true });
  }
  const bundledDependencies = {};
  for (const [name, tarball] of [
    ['stowage-client', clientTarball],
    ['stowage-server', serverTarball],
  ]) {
    const dir = path.join(staging, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['xzf', path.join(out, tarball), '-C', dir, '--strip-components=1']);
    const bundled = readManifest(dir);
    if (bundled.version !== cli.dependencies[name]) {
      throw new Error(`the CLI depends on ${name} ${cli.dependencies[name]}, but packages/ holds ${bundled.version}`);
    }
    for (const [dep, range] of Object.entries(bundled.dependencies ?? {})) {
      if (BUNDLED.includes(dep)) continue;
      const other = bundledDependencies[dep] ?? cli.dependencies[dep];
      if (other !== undefined && other !== range) throw new Error(`${dep}: ${name} wants ${range}, another package ${other}`);
      bundledDependencies[dep] = range;
    }
  }
  const manifest = {
    ...cli,
    dependencies: Object.fromEntries(Object.entries({ ...cli.dependencies, ...bundledDependencies }).sort()),
    bundleDependencies: BUNDLED,
  };
  writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const [cliTarball] = npmPack(staging, []);
  for (const tarball of [clientTarball, serverTarball, cliTarball]) process.stdout.write(`${path.join(out, tarball)}\n`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
