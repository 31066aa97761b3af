// Guards the documentation: docs/sharing.md's walkthrough (two users, from the shell) and its code
// example run as written against a real server and do what their comments say.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docBlock, REPOSITORY_ROOT, runJsExample } from '../../server/test/helpers/doc-blocks.js';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

describe('docs/sharing.md', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('the walkthrough runs as written', async () => {
    const script = await docBlock('docs/sharing.md', 'sharing-walkthrough', 'sh');
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPOSITORY_ROOT,
      env: { ...ts.env, STOWAGE_URL: ts.url, STOWAGE_DATA_DIR: ts.dataDir, STOWAGE_TOKEN_INFO_PATH: '/nonexistent/token_info.json' },
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^team-results\s+alice\s+\S+\s+shared$/m);
    assert.match(stdout, /^q1\/summary\.csv\nregion,total\nrefused: exit 3\nrefused: exit 3\n/m, 'bob reads q1/ only, and may not write');
    assert.match(stdout, /^q1\/README\.md\nq1\/summary\.csv\n/m, 'bob wrote under q1/ once given WRITE');
    assert.match(stdout, /^region,total\nregion,total\n/m, 'curl and --anonymous read the public prefix');
    assert.match(stdout, /^public:\s+yes$/m);
    assert.equal(stdout.match(/^grant:/gm)?.length, 3);
    assert.match(stdout, /refused: exit 3\n\(everything\): 3 keys/, 'unsharing revoked bob');
    assert.match(stderr, /warning: anyone, without credentials, now has READ on the keys under q1\/ in bucket team-results/);
  });

  test('the code example runs as written', async () => {
    const code = await docBlock('docs/sharing.md', 'sharing-code', 'js');
    const env = { STOWAGE_TOKEN: await ts.token('alice'), BOB_TOKEN: await ts.token('bob') };
    const { code: exit, stdout, stderr } = await runJsExample(ts, code, env);
    assert.equal(exit, 0, stderr);
    assert.equal(stdout, "[ 'q1/summary.csv' ]\nForbiddenError AccessDenied\n[ 'team-code alice shared' ]\nAccessDenied\n");
  });
});
