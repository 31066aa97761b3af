// Guards the documentation: the `stowage fsck` example of docs/operations.md runs as written (bash
// -e, from the repository root; only its port and data directory are swapped for free ones) and
// prints what its comments say.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dataDirHolder } from '../../server/src/backends/fs/data-dir-lock.js';
import { embeddedOnly } from '../../server/test/helpers/deployment.js';
import { runProcess } from '../../server/test/helpers/server-process.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('operations guide: the stowage fsck example', { skip: embeddedOnly }, () => {
  const dataDir = path.join(tmpdir(), `stowage-fsck-example-${process.pid}`);
  after(async () => {
    // If the script failed before it stopped its server, stop that one (its pid is in lock.owner).
    const holder = dataDirHolder(dataDir);
    const pid = holder.held ? Number(/^pid (\d+)/.exec(holder.owner ?? '')?.[1]) : undefined;
    if (pid) process.kill(pid, 'SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('runs as written', async () => {
    const guide = await readFile(`${root}docs/operations.md`, 'utf8');
    const block = /<!-- fsck-example -->\n```sh\n([\s\S]*?)```\n<!-- \/fsck-example -->/.exec(guide)?.[1];
    assert.ok(block, 'the guide has the fsck-example block');
    const script = block.replaceAll('8796', String(await freePort())).replaceAll('/tmp/stowage-fsck-demo', dataDir);
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], { cwd: root });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^clean$/m, 'clean beside the running server');
    assert.match(stdout, /^missing-blob demo\/data\/"(one|two)" \(blobs\/[0-9a-f/]+\): the blob file does not exist$/m);
    assert.match(stdout, /^exit code 3$/m);
    assert.match(stdout, /\[repaired: dropped the index row: GET now answers 404\]$/m);
    assert.match(stdout, /"exitCode": 0,?$/m);
  });
});
