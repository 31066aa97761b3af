// Guards a full disk: on a small tmpfs data dir, writes past the free-space reserve get 507
// InsufficientStorage (not 500) and leave no temp file, /readyz reports a full disk, every acknowledged
// object stays readable, deletes work even when the disk was filled to the last byte from
// outside (the ballast file gives the index room), and writes succeed again as soon as space is
// freed, without a restart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Mounts a tmpfs of `size` bytes; undefined where mounting is not permitted (not root). */
function mountTmpfs(dir: string, size: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mountPoint = await mkdtemp(path.join(tmpdir(), 'stowage-disk-full-'));
const mounted = mountTmpfs(mountPoint, 40 * MiB);

describe('a full disk', { skip: embeddedOnly || (mounted ? false : 'needs root to mount a small tmpfs') }, () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  const dataDir = path.join(mountPoint, 'data');
  const stored = new Map<string, string>();
  const limits = { minFreeBytes: 4 * MiB, ballastBytes: 2 * MiB };

  before(async () => {
    ts = await startTestServer(limits, { dataDir });
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
  });
  after(async () => {
    await ts?.close();
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  const putObject = async (key: string, size: number) => {
    const data = Buffer.alloc(size, key);
    const response = await py.put(`/data/set/${key}`, data);
    if (response.status === 200) stored.set(key, sha256(data));
    return response;
  };
  const assertAllReadable = async () => {
    for (const [key, digest] of stored) {
      const response = await py.get(`/data/get/${key}`);
      assert.equal(response.status, 200, key);
      assert.equal(sha256(response.body), digest, key);
    }
  };

  test('writes past the reserve get 507 InsufficientStorage, readiness says so, nothing is lost', async () => {
    assert.equal((await stat(path.join(dataDir, 'ballast'))).size, limits.ballastBytes, 'the ballast is laid down');
    let refused: Awaited<ReturnType<typeof putObject>> | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const response = await putObject(`big-${i}`, MiB);
      if (response.status !== 200) refused = response;
    }
    assert.ok(refused, 'the disk filled up');
    assert.equal(refused.status, 507, refused.text);
    assert.equal(refused.json<{ code: string }>().code, 'InsufficientStorage');
    assert.ok(stored.size >= 20, `${stored.size} objects fit`);

    // A body of unknown length is measured against the reserve as it grows: refused before the disk's end.
    const unbounded = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/unbounded', {
      headers: { authorization: `Bearer ${await ts.token('alice')}`, 'transfer-encoding': 'chunked' },
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 64; i++) yield Buffer.alloc(MiB, 'u');
        })(),
      ),
    });
    assert.equal(unbounded.status, 507, unbounded.text);
    assert.equal(unbounded.json<{ code: string }>().code, 'InsufficientStorage');
    assert.match(unbounded.text, /below the reserve/, 'stopped by the reserve, not by ENOSPC');
    assert.deepEqual(await readdir(path.join(dataDir, 'tmp')), [], 'no temp file remains');
    await assertAllReadable();
  });

  test('deletes free space and writes work again without a restart', async () => {
    for (const key of [...stored.keys()].slice(0, 4)) {
      assert.equal((await py.delete(`/data/${key}`)).status, 204);
      stored.delete(key);
    }
    await new Promise((resolve) => setTimeout(resolve, 600)); // the free-space reading is refreshed twice a second
    assert.equal((await putObject('after-delete', MiB)).status, 200);
    const ready = await rawRequest(ts.origin, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    await assertAllReadable();
  });

  test('a disk filled to the last byte from outside: writes 507, deletes still commit, then all recovers', async () => {
    const filler = path.join(mountPoint, 'filler');
    await fillDisk(filler);
    // A value that needs room of its own: a small one may still fit in pages the index holds.
    const write = await putObject('while-full', MiB);
    assert.equal(write.status, 507);
    assert.equal((await py.get('/data/get/while-full')).status, 404);
    // Small values may commit into WAL pages already on disk, until the disk's next reading
    // refuses them too; every one acknowledged stays readable (below, and after a restart).
    let refused = false;
    for (let i = 0; i < 200 && !refused; i++) {
      refused = (await putObject(`small-${i}`, 100)).status === 507;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(refused, 'small writes were refused while the disk was full');
    const ready = await rawRequest(ts.origin, 'GET', '/readyz');
    assert.equal(ready.status, 503, 'readiness reports the full disk');
    assert.match(ready.text, /bytes free/);
    for (const key of [...stored.keys()].slice(0, 3)) {
      const response = await py.delete(`/data/${key}`);
      assert.equal(response.status, 204, response.text);
      stored.delete(key);
      assert.equal((await py.get(`/data/get/${key}`)).status, 404);
    }
    await assertAllReadable();

    await rm(filler);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await putObject('recovered', 2 * MiB)).status, 200);
    await assertAllReadable();
    await ts.close();
    ts = await startTestServer(limits, { dataDir });
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
    await assertAllReadable();
  });
});

/** Writes zeros into `file` until the disk refuses another byte. */
async function fillDisk(file: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(file, 'w');
  try {
    for (let size = MiB; size >= 1; size = Math.floor(size / 2)) {
      const block = Buffer.alloc(size);
      for (;;) {
        try {
          await handle.write(block);
        } catch {
          break;
        }
      }
    }
  } finally {
    await handle.close();
  }
  await writeFile(`${file}.probe`, 'x').then(
    () => assert.fail('the disk still had room'),
    (error: NodeJS.ErrnoException) => assert.equal(error.code, 'ENOSPC'),
  );
}
