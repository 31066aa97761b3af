// Guards the documentation: the retention and undo example of docs/operations.md runs as written
// (bash -e, from the repository root; only its port and data directory are swapped for free ones)
// and prints what its comments say.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { embeddedOnly } from '../../server/test/helpers/deployment.js';
import { docBlock, freePort, REPOSITORY_ROOT, stopServerOf } from '../../server/test/helpers/doc-blocks.js';
import { runProcess } from '../../server/test/helpers/server-process.js';

describe('operations guide: the retention and undo example', { skip: embeddedOnly }, () => {
  const dataDir = path.join(tmpdir(), `stowage-retention-example-${process.pid}`);
  after(async () => {
    stopServerOf(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  test('runs as written', async () => {
    const block = await docBlock('docs/operations.md', 'retention-example', 'sh');
    const script = block.replaceAll('8797', String(await freePort())).replaceAll('/tmp/stowage-retention-demo', dataDir);
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPOSITORY_ROOT,
      env: { STOWAGE_TOKEN_INFO_PATH: '/nonexistent/token_info.json' },
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^reports\/q2\.txt is gone$/m);
    assert.match(
      stdout,
      /^reports\/q1\.txt\tdeleted\nreports\/q1\.txt\tnoncurrent\nreports\/q1\.txt\tnoncurrent\nreports\/q2\.txt\tdeleted\nreports\/q2\.txt\tnoncurrent\n/m,
    );
    assert.match(stdout, /^reports\/ as at .*: 2 restored, 0 deleted, 0 unchanged, 0 skipped$/m);
    assert.match(stdout, /^first draft\nreports\/q1\.txt: restored .*\noops$/m);
    assert.match(stdout, /"retainedBytes":\d+/);
  });
});
