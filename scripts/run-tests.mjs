#!/usr/bin/env node
// Runs every packages/*/test/**/*.test.ts with node:test through tsx, one process per file.
// Extra arguments are passed to node (e.g. --test-name-pattern=list). --deployment-suites leaves
// out the engine contract suites and the scale-out suites, which test their services directly.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'fixtures' ? [] : findTests(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

const CONTRACT_SUITES = /(object-index|blob-store|scale-out[a-z-]*|migrate)\.test\.ts$/;
const args = process.argv.slice(2);
const deploymentSuites = args.includes('--deployment-suites');
const only = args.filter((arg) => !arg.startsWith('--'));
const flags = args.filter((arg) => arg.startsWith('--') && arg !== '--deployment-suites');
const all = only.length > 0 ? only : ['client', 'server', 'cli'].flatMap((pkg) => findTests(path.join('packages', pkg, 'test')));
const files = deploymentSuites ? all.filter((file) => !CONTRACT_SUITES.test(file)) : all;
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...flags, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
