// The universal entry (`stowage-client` outside Node, `stowage-client/web`) must run where there
// is no Node: bundled for the browser and for a neutral platform (Workers, Deno), it resolves
// without Node's builtins or undici, and uses no Node globals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.ts');

for (const platform of ['browser', 'neutral'] as const) {
  test(`the universal entry bundles for platform ${platform} without Node builtins, undici or Node globals`, async () => {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    assert.deepEqual(
      inputs.filter((file) => /node_modules|^node:/.test(file)),
      [],
      'the universal entry pulled in packages or Node builtins',
    );
    assert.ok(inputs.some((file) => file.endsWith('fetch-transport.ts')));
    assert.ok(!inputs.some((file) => /[\\/]node[\\/]/.test(file)), 'a Node-only file of the client was bundled');
    const code = result.outputFiles[0]?.text ?? '';
    for (const nodeGlobal of [/\bBuffer\./, /\bprocess\.(env|pid|platform)/, /\brequire\(/]) {
      assert.doesNotMatch(code, nodeGlobal, `the bundle uses ${nodeGlobal.source}`);
    }
  });
}

test("a Node builtin in the universal entry's imports would fail the browser bundle", async () => {
  // The check above is only as good as esbuild's refusal of Node builtins for the browser.
  await assert.rejects(
    build({ stdin: { contents: "import 'node:fs';" }, bundle: true, write: false, platform: 'browser', logLevel: 'silent' }),
    /node:fs/,
  );
});
