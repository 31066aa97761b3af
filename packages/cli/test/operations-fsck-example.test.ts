// Guards the documentation: the `stowage fsck` example of docs/operations.md runs as written (bash
// -e, from the repository root; only its port and data directory are swapped for free ones) and
// prints what its comments say.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { embeddedOnly } from '../../server/test/helpers/deployment.js';
import { docBlock, freePort, REPOSITORY_ROOT, stopServerOf } from '../../server/test/helpers/doc-blocks.js';
import { runProcess } from '../../server/test/helpers/server-process.js';

describe('operations guide: the stowage fsck example', { skip: embeddedOnly }, () => {
  const dataDir = path.join(tmpdir(), `stowage-fsck-example-${process.pid}`);
  after(async () => {
    stopServerOf(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });

  test('runs as written', async () => {
    const block = await docBlock('docs/operations.md', 'fsck-example', 'sh');
    const script = block.replaceAll('8796', String(await freePort())).replaceAll('/tmp/stowage-fsck-demo', dataDir);
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], { cwd: REPOSITORY_ROOT });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^clean$/m, 'clean beside the running server');
    assert.match(stdout, /^missing-blob demo\/data\/"(one|two)" \(blobs\/[0-9a-f/]+\): the blob file does not exist$/m);
    assert.match(stdout, /^exit code 3$/m);
    assert.match(stdout, /\[repaired: dropped the index row: GET now answers 404\]$/m);
    assert.match(stdout, /"exitCode": 0,?$/m);
  });
});
