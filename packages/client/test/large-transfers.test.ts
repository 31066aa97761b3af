// Guards large transfers over a flaky network: a resumable upload whose connection is cut three
// times completes byte-exact; a cut download resumes with Range + If-Match; an object replaced
// while a download resumes is detected, never stitched; conditional writes race safely.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, PreconditionFailedError, Retry, Storage, StorageError } from '../src/node/index.js';
import { startCuttingProxy } from './cutting-proxy.js';
import { overFetch } from './http-transport-choice.js';
import { sha256File, writePatternFile } from './test-files.js';

const MiB = 1024 * 1024;
/** The server makes a long upload request durable every this many bytes. */
const CHECKPOINT = 16 * MiB;

describe('large transfers over a flaky network', () => {
  let ts: TestServer;
  let dir: string;
  let token: string;
  const clients: Storage[] = [];
  const clientFor = (url: string) => {
    const client = new Storage({ url, auth: new Auth({ token, env: {} }), retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }) });
    clients.push(client);
    return client;
  };
  before(async () => {
    // Upload URLs must name the fault proxy the client goes through: its address is allowed in them.
    ts = await startTestServer({ allowedHosts: [{ name: '127.0.0.1', port: undefined }], uploadCheckpointBytes: CHECKPOINT });
    token = await ts.token('alice');
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-flaky-'));
  });
  after(async () => {
    for (const client of clients) await client.close();
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a 1 GiB resumable upload whose connection is cut three times completes and matches by sha256; each cut costs at most one checkpoint', async () => {
    const source = path.join(dir, 'gigabyte.bin');
    const expected = await writePatternFile(source, 1024 * MiB);
    const proxy = await startCuttingProxy(ts.url, { upload: [150 * MiB, 420 * MiB, 777 * MiB] });
    try {
      const storage = clientFor(proxy.url);
      let lastProgress = 0;
      let progressReports = 0;
      const result = await storage.setFile('huge/gigabyte.bin', source, {
        onProgress: (bytes) => {
          lastProgress = bytes;
          progressReports++;
        },
      });
      assert.equal(proxy.stats.cuts, 3);
      // The rest of the file goes in one request each time (over fetch, in requests of 16 MiB,
      // which Node's fetch would otherwise read ahead into memory), then its last byte and status
      // queries: a handful of PUTs where chunks of 8 MiB would take 128.
      const requests = overFetch ? [64, 80] : [4, 12];
      assert.ok(
        proxy.stats.putRequests >= (requests[0] as number) && proxy.stats.putRequests <= (requests[1] as number),
        `${proxy.stats.putRequests} PUT requests`,
      );
      assert.ok(progressReports > 100, 'progress is reported as the bytes go out, not only at the answers');
      // What a cut loses is the piece in flight (and what the sockets buffered): never more than
      // one checkpoint, plus a little, per cut.
      const resent = proxy.stats.uploadedBytes - 1024 * MiB;
      assert.ok(resent <= 3 * (CHECKPOINT + 8 * MiB), `${(resent / MiB).toFixed(1)} MiB sent again`);
      assert.equal(result.size, 1024 * MiB);
      assert.equal(result.sha256, expected);
      assert.equal(lastProgress, 1024 * MiB);
      const direct = clientFor(ts.url);
      const target = path.join(dir, 'gigabyte.out');
      await direct.getFile('huge/gigabyte.bin', target);
      assert.equal(await sha256File(target), expected);
    } finally {
      await proxy.close();
      await rm(source, { force: true });
      await rm(path.join(dir, 'gigabyte.out'), { force: true });
    }
  });

  test('a download cut mid-way resumes and is byte-exact', async () => {
    const source = path.join(dir, 'thirty.bin');
    const expected = await writePatternFile(source, 30 * MiB);
    await clientFor(ts.url).setFile('thirty.bin', source);
    const proxy = await startCuttingProxy(ts.url, { download: [10 * MiB, 22 * MiB] });
    try {
      const target = path.join(dir, 'thirty.out');
      await clientFor(proxy.url).getFile('thirty.bin', target);
      assert.equal(proxy.stats.cuts, 2);
      assert.equal(await sha256File(target), expected);
    } finally {
      await proxy.close();
    }
  });

  test('an object replaced while a download resumes is detected, and no file is left', async () => {
    const source = path.join(dir, 'changing.bin');
    await writePatternFile(source, 20 * MiB);
    const direct = clientFor(ts.url);
    await direct.setFile('changing.bin', source);
    let replaced: Promise<unknown> | undefined;
    const proxy = await startCuttingProxy(ts.url, {
      download: [8 * MiB],
      onCut: () => {
        replaced = direct.set('changing.bin', 'a different value');
      },
    });
    try {
      const target = path.join(dir, 'changing.out');
      await assert.rejects(clientFor(proxy.url).getFile('changing.bin', target), PreconditionFailedError);
      await replaced;
      assert.ok(!(await readdir(dir)).some((name) => name.includes('changing.out')));
    } finally {
      await proxy.close();
    }
  });

  test('small chunks: setFile goes resumable past the threshold and reports progress to the end', async () => {
    const storage = new Storage({ url: ts.url, auth: new Auth({ token, env: {} }), resumableThreshold: 256 * 1024, chunkSize: 100 * 1024 });
    clients.push(storage);
    const source = path.join(dir, 'chunky.bin');
    const expected = await writePatternFile(source, MiB);
    const progress: number[] = [];
    const result = await storage.setFile('chunky.bin', source, { onProgress: (bytes) => progress.push(bytes) });
    assert.equal(result.sha256, expected);
    assert.ok(progress.length >= 10, `${progress.length} progress reports`);
    assert.equal(progress.at(-1), MiB);
  });

  test('a file written to during a resumable upload is refused, nothing is stored and the session is cancelled', async () => {
    const storage = new Storage({ url: ts.url, auth: new Auth({ token, env: {} }), resumableThreshold: 256 * 1024, chunkSize: 100 * 1024 });
    clients.push(storage);
    const source = path.join(dir, 'edited.bin');
    await writePatternFile(source, MiB);
    let edited: Promise<void> | undefined;
    const upload = storage.setFile('edited.bin', source, {
      onProgress: (bytes) => {
        // The tail, not sent yet, is rewritten: each byte would be hashed as sent, so only the
        // file's size and modification time can tell.
        if (bytes > 0 && bytes < MiB && !edited) edited = writeFile(source, Buffer.alloc(100, 7), { flag: 'r+' }).then(() => undefined);
      },
    });
    await assert.rejects(upload, (error: unknown) => error instanceof StorageError && error.code === 'FileChanged');
    await edited;
    assert.equal(await storage.exists('edited.bin'), false);
    assert.equal((await storage.usage()).pendingUploadBytes, 0, 'the session was cancelled');
  });

  test('two clients racing with If-Match: exactly one wins, the other gets PreconditionFailedError', async () => {
    const [a, b] = [clientFor(ts.url), clientFor(ts.url)] as const;
    const { etag } = await a.set('contested', 'v0');
    const results = await Promise.allSettled([
      a.set('contested', 'from a', { ifMatch: etag }),
      b.set('contested', 'from b', { ifMatch: etag }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(fulfilled.length, 1);
    assert.equal(rejected.length, 1);
    assert.ok(rejected[0]?.reason instanceof PreconditionFailedError);
    assert.equal(await a.get('contested'), results[0]?.status === 'fulfilled' ? 'from a' : 'from b');
    await assert.rejects(a.set('contested', 'again', { ifNoneMatch: true }), PreconditionFailedError);
    await a.set('brand-new', 'created', { ifNoneMatch: true });
    assert.equal(await a.get('brand-new'), 'created');
  });
});
