#!/usr/bin/env node
// Packs stowage-client, stowage-server and stowage (the CLI) into DIR (default: tarballs/), after
// `npm run build`, and prints the three tarballs' paths:
//   node scripts/pack-packages.mjs [DIR]        (npm run pack)
// The CLI's tarball carries every package it runs on (bundleDependencies): the client and server
// as packed here, and their dependencies at package-lock.json's versions, as installed here. Neither
// stowage package is on a registry, and npm cannot mix bundled packages with fetched ones in a
// global install (it takes a fetched package that a bundled one needs for part of the bundle, and
// leaves its directory empty). better-sqlite3 goes without its build: it builds on install.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'tarballs'));
const WORKSPACES = ['stowage', 'stowage-client', 'stowage-server'];
mkdirSync(out, { recursive: true });

const readManifest = (dir) => JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));

/** `npm pack` in cwd with extra arguments; the tarballs' file names. */
function npmPack(cwd, args) {
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out, ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024, // the CLI's listing names every bundled file
  });
  return JSON.parse(json).map((packed) => packed.filename);
}

/** The CLI's production dependencies as installed here, but the workspaces: paths under node_modules. */
function installedDependencies() {
  const listing = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', 'packages/cli'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const modules = path.join(root, 'node_modules') + path.sep;
  return listing
    .split('\n')
    .filter((line) => line.startsWith(modules))
    .map((line) => line.slice(modules.length))
    .filter((relative) => !WORKSPACES.includes(relative));
}

/** Copies a package's own files (not its node_modules, listed on their own) without build output. */
function copyPackage(relative, target) {
  const source = path.join(root, 'node_modules', relative);
  const manifest = readManifest(source);
  if (manifest.os || manifest.cpu) throw new Error(`${relative} is built for some platforms only: it cannot be bundled`);
  cpSync(source, target, {
    recursive: true,
    filter: (file) => {
      const inside = path.relative(source, file);
      return !inside.startsWith('node_modules') && !(manifest.name === 'better-sqlite3' && inside.startsWith('build'));
    },
  });
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
  for (const [name, tarball] of [
    ['stowage-client', clientTarball],
    ['stowage-server', serverTarball],
  ]) {
    const dir = path.join(staging, 'node_modules', name);
    mkdirSync(dir, { recursive: true });
    execFileSync('tar', ['xzf', path.join(out, tarball), '-C', dir, '--strip-components=1']);
    const { version } = readManifest(dir);
    if (version !== cli.dependencies[name]) {
      throw new Error(`the CLI depends on ${name} ${cli.dependencies[name]}, but packages/ holds ${version}`);
    }
  }
  for (const relative of installedDependencies()) {
    const target = path.join(staging, 'node_modules', relative);
    if (!existsSync(target)) copyPackage(relative, target);
  }
  const { devDependencies: _, ...manifest } = cli;
  writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify({ ...manifest, bundleDependencies: true }, null, 2)}\n`);
  const [cliTarball] = npmPack(staging, []);
  for (const tarball of [clientTarball, serverTarball, cliTarball]) process.stdout.write(`${path.join(out, tarball)}\n`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
