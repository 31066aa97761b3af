// Guards the documentation: the README's example of named buckets and sharing runs as written
// against a real server and prints what its comments say.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('README buckets and sharing example', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('runs as written and prints what its comments promise', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8');
    const code = /<!-- buckets-example -->\n```js\n([\s\S]*?)```\n<!-- \/buckets-example -->/.exec(readme)?.[1];
    assert.ok(code, 'the README has the buckets-example block');
    const {
      code: exit,
      stdout,
      stderr,
    } = await runProcess(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      env: { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev'), HOME: '/nonexistent' },
    });
    assert.equal(exit, 0, stderr);
    const lines = stdout.split('\n');
    assert.deepEqual(lines.slice(0, 5), [
      "[ 'drafts/q2.csv', 'q1/summary.csv' ]",
      "true [ 'bob READ q1/', 'everyone READ q1/' ]",
      '"region,total\\nnorth,42\\n"',
      'AuthError MissingToken',
      '{',
    ]);
    assert.match(stdout, /\{\n {2}name: 'team-results',\n {2}owner: 'dev',\n {2}createdAt: '\d{4}-[^']+',\n {2}access: 'owner'\n\}\n/);
    assert.match(stdout, /\nConflictError BucketNotEmpty\n$/);
  });
});
