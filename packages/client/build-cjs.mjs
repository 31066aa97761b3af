#!/usr/bin/env node
// Builds the CommonJS copy of the client for `require('stowage-client')`: every ES module tsc wrote
// to dist/ becomes dist/cjs/<same path>.js, next to a copy of its .d.ts, under a package.json that
// makes dist/cjs CommonJS. File by file, not bundled, so each entry point shares its modules (and
// its error classes) with the others. Run after tsc:
//   node packages/client/build-cjs.mjs
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dist');
const out = path.join(dist, 'cjs');
rmSync(out, { recursive: true, force: true });

/** dist's files, relative to it, without dist/cjs itself. */
function sources(dir = dist) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return full === out ? [] : sources(full);
    return [path.relative(dist, full)];
  });
}

// import.meta.url has no CommonJS equivalent but the module's own file URL.
const META_URL = '__stowage_import_meta_url';
const META_BANNER = `const ${META_URL} = require('node:url').pathToFileURL(__filename).href;`;

let modules = 0;
for (const file of sources()) {
  const target = path.join(out, file);
  if (file.endsWith('.js')) {
    const code = readFileSync(path.join(dist, file), 'utf8');
    const result = await transform(code, {
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcefile: file,
      define: { 'import.meta.url': META_URL },
      banner: code.includes('import.meta') ? META_BANNER : '',
      logLevel: 'silent',
    });
    // A warning here is a construct CommonJS cannot express (import.meta beyond .url, say): stop.
    if (result.warnings.length > 0) {
      throw new Error(`${file}: ${result.warnings.map((warning) => warning.text).join('; ')}`);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, result.code);
    modules++;
  } else if (file.endsWith('.d.ts')) {
    // The same declarations describe the CommonJS modules; their maps point at dist's files.
    mkdirSync(path.dirname(target), { recursive: true });
    const declarations = readFileSync(path.join(dist, file), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
    writeFileSync(target, declarations);
  }
}
writeFileSync(path.join(out, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
if (modules === 0) throw new Error(`no ES modules in ${dist}: run tsc -b packages/client first`);
process.stdout.write(`CommonJS client built in ${path.relative(process.cwd(), out)}: ${modules} modules\n`);
