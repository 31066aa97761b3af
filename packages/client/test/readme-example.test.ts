// Guards the documentation: the README's client example is examples/every-method.mjs verbatim,
// and that file runs as written against a real server, printing what its comments say.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNode } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const example = fileURLToPath(new URL('../../../examples/every-method.mjs', import.meta.url));
const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));

describe('README client example', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('the README shows examples/every-method.mjs verbatim', async () => {
    const [code, text] = await Promise.all([readFile(example, 'utf8'), readFile(readme, 'utf8')]);
    assert.ok(text.includes(`\`\`\`js\n${code}\`\`\``), 'README block differs from examples/every-method.mjs');
  });

  test('it runs as written and prints what its comments promise', async () => {
    const { code, stdout, stderr } = await runNode([example], {
      STOWAGE_URL: ts.url,
      STOWAGE_TOKEN: await ts.token('dev'),
      HOME: '/nonexistent',
    });
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    assert.equal(lines[0], 'Hello, Stowage!');
    assert.equal(lines[1], '15');
    assert.equal(lines[2], 'true');
    assert.match(stdout, /\[ 'logs\/day-1', 'logs\/day-2', 'logs\/day-3' \]/);
    assert.match(stdout, /logs\/day-1\nlogs\/day-2\nlogs\/day-3\n/);
    assert.match(stdout, /a,b\n1,2\n\na,b\n1,2\nHello, Stowage!\n/);
    assert.match(stdout, /uploaded without a token\ntrue NoSuchKey\n$/);
  });
});
