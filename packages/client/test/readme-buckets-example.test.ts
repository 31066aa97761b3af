// Guards the documentation: the README's example of named buckets and sharing runs as written
// against a real server and prints what its comments say.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docBlock, runJsExample } from '../../server/test/helpers/doc-blocks.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

describe('README buckets and sharing example', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('runs as written and prints what its comments promise', async () => {
    const { code: exit, stdout, stderr } = await runJsExample(ts, await docBlock('README.md', 'buckets-example', 'js'));
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
