// Guards docs/getting-started.md: its walkthrough runs as written against a real server (as
// `npm start` runs it, with the two exported lines set) and prints what its comments say.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docBlock, REPOSITORY_ROOT } from '../../server/test/helpers/doc-blocks.js';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

describe('docs/getting-started.md', () => {
  let ts: TestServer;
  let home: string;
  before(async () => {
    ts = await startTestServer();
    home = await mkdtemp(path.join(tmpdir(), 'stowage-getting-started-'));
  });
  after(async () => {
    await ts.close();
    await rm(home, { recursive: true, force: true });
  });

  test('the walkthrough runs as written', async () => {
    const script = await docBlock('docs/getting-started.md', 'getting-started', 'sh');
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPOSITORY_ROOT,
      env: { ...ts.env, HOME: home, STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev'), STOWAGE_DATA_DIR: ts.dataDir },
    });
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`^Logged in to ${ts.url} as dev; saved to ${home}/\\.stowage/token_info\\.json$`, 'm'));
    assert.equal(
      stdout,
      [
        'dev',
        'notes/hello.txt',
        'notes/readme.md',
        'hello from a pipe',
        'content type:        text/markdown',
        'hello from a pipe',
        'shared/README.md',
        "not bob's: exit 1",
        '',
      ].join('\n'),
    );
  });
});
