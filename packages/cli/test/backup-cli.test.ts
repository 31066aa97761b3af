// Guards `stowage backup` and `stowage restore-backup` as processes beside a server process: a
// backup killed (SIGKILL) part way leaves no manifest and a second run finishes it, copying only
// what the first had not; its restore is clean for fsck. restore-backup refuses a data directory
// that is not empty; without pg_dump, a backup of the PostgreSQL + S3 deployment prints the
// documented commands and exits 2. And the example of docs/operations.md runs as written.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { dataDirHolder } from '../../server/src/backends/fs/data-dir-lock.js';
import { embeddedOnly } from '../../server/test/helpers/deployment.js';
import { docBlock, freePort, REPOSITORY_ROOT } from '../../server/test/helpers/doc-blocks.js';
import { rawRequest } from '../../server/test/helpers/raw-http.js';
import { runCli, runProcess, startServerProcess } from '../../server/test/helpers/server-process.js';

const scratch: string[] = [];
async function newDir(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `stowage-${name}-`));
  scratch.push(dir);
  return dir;
}
/** Stops a server a failed script left running on `dataDir` (its pid is in lock.owner). */
function stopLeftServer(dataDir: string): void {
  const holder = dataDirHolder(dataDir);
  const pid = holder.held ? Number(/^pid (\d+)/.exec(holder.owner ?? '')?.[1]) : undefined;
  if (pid) process.kill(pid, 'SIGTERM');
}
after(async () => {
  for (const dir of scratch) {
    stopLeftServer(dir);
    await rm(dir, { recursive: true, force: true });
  }
});

async function blobFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(dir, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('stowage backup and restore-backup', { skip: embeddedOnly }, () => {
  test('a backup killed part way is finished by the next run, which copies only the rest', async () => {
    const dataDir = path.join(await newDir('backup-kill'), 'data');
    const server = await startServerProcess(dataDir);
    try {
      const { stdout: token } = await runCli(['token', '--user', 'alice', '--data-dir', dataDir]);
      const BLOBS = 24;
      for (let i = 0; i < BLOBS; i++) {
        const put = await rawRequest(server.origin, 'PUT', `/storage/v1/data/set/k${i}`, {
          headers: { authorization: `Bearer ${token.trim()}` },
          body: randomBytes(50_000 + i),
        });
        assert.equal(put.status, 200);
      }
      const destination = path.join(await newDir('backup-kill-dest'), 'backup');

      // Killed (SIGKILL) right after the sixth blob it wrote.
      const killed = await runCli(['backup', destination, '--data-dir', dataDir], { STOWAGE_FAILPOINTS: 'backup.after-blob@6' });
      assert.equal(killed.code, null, `killed by its failpoint: ${killed.stderr}`);
      assert.equal(existsSync(path.join(destination, 'manifest.json')), false, 'an interrupted backup has no manifest');
      const copiedBefore = (await blobFiles(destination)).length;
      assert.ok(copiedBefore >= 6 && copiedBefore < BLOBS, `${copiedBefore} blobs were in place when it died`);
      const refused = await runCli(['restore-backup', destination, '--data-dir', path.join(await newDir('restored-early'), 'data')]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /holds no finished backup: it has no manifest\.json/);

      const finished = await runCli(['backup', destination, '--data-dir', dataDir, '--json']);
      assert.equal(finished.code, 0, finished.stderr);
      const report = JSON.parse(finished.stdout) as { manifest: { blobs: { count: number; copied: number }; objects: number } };
      assert.equal(report.manifest.blobs.count, BLOBS);
      assert.equal(report.manifest.blobs.copied, BLOBS - copiedBefore, 'only what the killed run had not copied');
      assert.ok(existsSync(path.join(destination, 'manifest.json')));
      assert.equal(existsSync(path.join(destination, 'tmp')), false, 'no leftovers of the killed run');
      const manifest = JSON.parse(await readFile(path.join(destination, 'manifest.json'), 'utf8')) as { objects: number };
      assert.equal(manifest.objects, BLOBS);

      const restored = path.join(await newDir('restored-kill'), 'data');
      const restore = await runCli(['restore-backup', destination, '--data-dir', restored]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.match(restore.stdout, new RegExp(`^restored ${BLOBS} objects from `, 'm'));
      assert.match(restore.stdout, new RegExp(`^blobs: ${BLOBS} \\(.*\\), each checked for its size and sha256$`, 'm'));
      const checked = await runCli(['fsck', '--data-dir', restored]);
      assert.equal(checked.code, 0, checked.stdout);
      assert.match(checked.stdout, /^clean$/m);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('restore-backup refuses a data directory that is not empty', async () => {
    const dataDir = path.join(await newDir('backup-refuse'), 'data');
    const server = await startServerProcess(dataDir);
    const destination = path.join(await newDir('backup-refuse-dest'), 'backup');
    try {
      const made = await runCli(['backup', destination, '--data-dir', dataDir]);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /^complete$/m);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const occupied = await newDir('restore-occupied');
    await mkdir(path.join(occupied, 'blobs'));
    await writeFile(path.join(occupied, 'keep.txt'), 'mine');
    const refused = await runCli(['restore-backup', destination, '--data-dir', occupied]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^stowage restore-backup: .* is not empty: a backup is restored into a new data directory/m);
    assert.deepEqual((await readdir(occupied)).sort(), ['blobs', 'keep.txt']);
  });

  test('without pg_dump, a backup of the PostgreSQL + S3 deployment prints the documented commands and exits 2', async () => {
    const destination = path.join(await newDir('backup-pg'), 'backup');
    const result = await runProcess(process.execPath, [path.join(REPOSITORY_ROOT, 'packages/cli/bin/stowage.js'), 'backup', destination], {
      env: {
        PATH: path.join(tmpdir(), 'no-such-dir'),
        STOWAGE_INDEX: 'postgres://stowage:secret@db.internal:5432/stowage',
        STOWAGE_INDEX_SCHEMA: 'prod',
        STOWAGE_BLOBS: 's3://acme-stowage/prod',
        STOWAGE_S3_ENDPOINT: 'http://rgw.internal:7480',
        STOWAGE_JWT_SECRET: 'x'.repeat(32),
      },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /pg_dump is not on the PATH/);
    const dump = result.stderr.indexOf(
      'pg_dump --format=custom --schema=prod --file=index.pgdump "postgres://stowage@db.internal:5432/stowage"',
    );
    const sync = result.stderr.indexOf(
      `aws s3 sync --endpoint-url http://rgw.internal:7480 s3://acme-stowage/prod/blobs ${destination}/blobs`,
    );
    assert.ok(dump > 0 && sync > dump, `the dump first, then the blobs:\n${result.stderr}`);
    assert.doesNotMatch(result.stderr, /secret@/, 'never the password');
    assert.equal(existsSync(destination), false, 'nothing was made');
  });

  test('the example of docs/operations.md runs as written', async () => {
    const work = await newDir('backup-example');
    const dirs = { data: path.join(work, 'data'), backup: path.join(work, 'data.bak'), restored: path.join(work, 'restored') };
    scratch.push(dirs.data, dirs.restored);
    const [port, restoredPort] = [await freePort(), await freePort()];
    const script = (await docBlock('docs/operations.md', 'backup-example', 'sh'))
      .replaceAll('8797', String(port))
      .replaceAll('8798', String(restoredPort))
      .replaceAll('/tmp/stowage-backup-demo.bak', dirs.backup)
      .replaceAll('/tmp/stowage-backup-demo', dirs.data)
      .replaceAll('/tmp/stowage-restored-demo', dirs.restored);
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', script], { cwd: REPOSITORY_ROOT });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^blobs: 2 \(.*\), 2 copied \(.*\), 0 there already$/m);
    assert.match(stdout, /^blobs: 3 \(.*\), 1 copied \(.*\), 2 there already$/m);
    assert.match(stdout, /^restored 3 objects from /m);
    assert.match(stdout, /^clean$/m);
    assert.match(stdout, /^\s*100000$/m, 'the restored server serves the value with the same token');
  });
});
