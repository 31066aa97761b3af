#!/usr/bin/env node
// Writes docs/cli.md from the commands (npm run docs:cli; run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram, cliReference } from '../packages/cli/dist/index.js';

const page = fileURLToPath(new URL('../docs/cli.md', import.meta.url));
writeFileSync(page, cliReference(buildProgram()));
process.stdout.write(`wrote ${page}\n`);
