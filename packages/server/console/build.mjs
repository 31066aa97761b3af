#!/usr/bin/env node
// Builds the console into packages/server/dist/console/: one ES module bundle (Preact included),
// the page, its stylesheet and icon, each also gzipped so the server sends the compressed file as is.
//   node packages/server/console/build.mjs
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, '..', 'dist', 'console');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [path.join(here, 'src', 'main.tsx')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(path.join(here, 'index.html'), path.join(out, 'index.html'));
copyFileSync(path.join(here, 'app.css'), path.join(out, 'app.css'));
copyFileSync(path.join(here, 'favicon.svg'), path.join(out, 'favicon.svg'));

const sizes = [];
for (const name of ['index.html', 'app.css', 'app.js', 'favicon.svg']) {
  const file = path.join(out, name);
  const gzipped = gzipSync(readFileSync(file), { level: 9 });
  writeFileSync(`${file}.gz`, gzipped);
  sizes.push(`${name} ${(gzipped.length / 1024).toFixed(1)} KiB gzip`);
}
process.stdout.write(`console built in ${path.relative(process.cwd(), out)}: ${sizes.join(', ')}\n`);
