// Guards the documentation: the retention and undo example of docs/operations.md runs as written
// (bash -e, from the repository root; only its port and data directory are swapped for free ones)
// and prints what its comments say.
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

describe('operations guide: the retention and undo example', { skip: embeddedOnly }, () => {
  const dataDir = path.join(tmpdir(), `stowage-retention-example-${process.pid}`);
  after(async () => {
    const holder = dataDirHolder(dataDir);
    const pid = holder.held ? Number(/^pid (\d+)/.exec(holder.owner ?? '')?.[1]) : undefined;
    if (pid) process.kill(pid, 'SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  test('runs as written', async () => {
    const guide = await readFile(`${root}docs/operations.md`, 'utf8');
    const block = /<!-- retention-example -->\n```sh\n([\s\S]*?)```\n<!-- \/retention-example -->/.exec(guide)?.[1];
    assert.ok(block, 'the guide has the retention-example block');
    const script = block.replaceAll('8797', String(await freePort())).replaceAll('/tmp/stowage-retention-demo', dataDir);
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: root,
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
