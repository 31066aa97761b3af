// Guards uploadBlob (the universal client's resumable upload of a Blob through an upload URL) and
// the page-at-a-time listings, over the HTTP transport this run uses (STOWAGE_HTTP_TRANSPORT).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import {
  Auth,
  abandonUpload,
  NotFoundError,
  nodeHttpTransport,
  PreconditionFailedError,
  Retry,
  Storage,
  uploadBlob,
} from '../src/node/index.js';
import { startCuttingProxy } from './cutting-proxy.js';

const MiB = 1024 * 1024;
const fastRetry = () => new Retry({ backoffFactor: 0.01, backoffJitter: 0 });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('uploadBlob and paged listings', () => {
  let ts: TestServer;
  let storage: Storage;
  before(async () => {
    // Upload URLs must name the cutting proxy a Storage goes through: its address is allowed in them.
    ts = await startTestServer({ retentionMs: 86_400_000, allowedHosts: [{ name: '127.0.0.1', port: undefined }] });
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('alice'), env: {} }) });
  });
  after(async () => {
    await storage.close();
    await ts.close();
  });

  test('a Blob whose connection is cut twice resumes where the server stands and is stored byte-exact', async () => {
    const bytes = randomBytes(20 * MiB);
    const proxy = await startCuttingProxy(ts.url, { upload: [7 * MiB, 13 * MiB] });
    try {
      const direct = new URL(await storage.getUploadUrl('blobs/cut.bin'));
      const progress: number[] = [];
      const retried: unknown[] = [];
      const stored = await uploadBlob(`${new URL(proxy.url).origin}${direct.pathname}${direct.search}`, new Blob([bytes]), {
        chunkSize: 4 * MiB,
        retries: fastRetry(),
        transport: nodeHttpTransport(),
        onProgress: (held) => progress.push(held),
        onRetry: (error) => retried.push(error),
        metadata: { camera: 'X100' },
      });
      assert.equal(proxy.stats.cuts, 2);
      assert.equal(retried.length >= 2, true, 'each cut was retried');
      assert.equal(stored.sha256, sha256(bytes));
      assert.ok(
        progress.every((held, i) => i === 0 || held >= (progress[i - 1] as number)),
        `progress went back: ${progress}`,
      );
      assert.equal(progress.at(-1), bytes.length);
      const info = await storage.info('blobs/cut.bin');
      assert.equal(info.sha256, sha256(bytes));
      assert.deepEqual(info.metadata, { camera: 'X100' }, 'the completion carried the metadata');
    } finally {
      await proxy.close();
    }
  });

  test('Storage.setBlob sends a large Blob in resumable chunks that survive a cut; a small one in one PUT', async () => {
    const bytes = randomBytes(9 * MiB);
    const proxy = await startCuttingProxy(ts.url, { upload: [5 * MiB] });
    const viaProxy = new Storage({
      url: proxy.url,
      auth: new Auth({ token: await ts.token('alice'), env: {} }),
      retries: fastRetry(),
      resumableThreshold: 4 * MiB,
      chunkSize: 2 * MiB,
    });
    try {
      const progress: number[] = [];
      const stored = await viaProxy.setBlob('blobs/set-blob.bin', new Blob([bytes], { type: 'application/x-test' }), {
        onProgress: (held) => progress.push(held),
        metadata: { origin: 'setBlob' },
      });
      assert.equal(proxy.stats.cuts, 1);
      assert.equal(stored.sha256, sha256(bytes));
      assert.ok(progress.length >= 4, `progress came chunk by chunk: ${progress}`);
      const info = await storage.info('blobs/set-blob.bin');
      assert.equal(info.contentType, 'application/x-test', "the Blob's type is the content type");
      assert.deepEqual(info.metadata, { origin: 'setBlob' });
      const small = await viaProxy.setBlob('blobs/small', new Blob(['tiny']));
      assert.equal(small.size, 4);
      assert.equal(await storage.get('blobs/small'), 'tiny');
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  test('an empty Blob is stored; ifNoneMatch refuses a second upload to the same key', async () => {
    const first = await uploadBlob(await storage.getUploadUrl('blobs/empty'), new Blob([]), { transport: nodeHttpTransport() });
    assert.equal(first.size, 0);
    assert.equal(await storage.get('blobs/empty'), '');
    await assert.rejects(
      uploadBlob(await storage.getUploadUrl('blobs/empty'), new Blob(['again']), { ifNoneMatch: true, transport: nodeHttpTransport() }),
      PreconditionFailedError,
    );
    assert.equal(await storage.get('blobs/empty'), '', 'the refused upload stored nothing');
  });

  test('abandonUpload drops an aborted upload: the URL then stores nothing', async () => {
    const uploadUrl = await storage.getUploadUrl('blobs/abandoned.bin');
    const abort = new AbortController();
    const blob = new Blob([randomBytes(6 * MiB)]);
    await assert.rejects(
      uploadBlob(uploadUrl, blob, {
        chunkSize: 2 * MiB,
        signal: abort.signal,
        transport: nodeHttpTransport(),
        onProgress: (held) => held > 0 && abort.abort(),
      }),
      (error: unknown) => (error as Error).name === 'AbortError',
    );
    const held = (await storage.usage()).pendingUploadBytes;
    await abandonUpload(uploadUrl, { transport: nodeHttpTransport() });
    const dropped = held - (await storage.usage()).pendingUploadBytes;
    assert.ok(dropped >= 2 * MiB, `abandoning dropped the aborted upload's bytes (${dropped})`);
    await assert.rejects(uploadBlob(uploadUrl, blob, { transport: nodeHttpTransport() }), NotFoundError);
    assert.equal(await storage.exists('blobs/abandoned.bin'), false);
  });

  test('listPage pages a folder listing by its next token; versionsPage pages the versions', async () => {
    for (let i = 0; i < 5; i++) await storage.set(`paged/k${i}`, `v${i}`);
    await storage.set('paged/sub/deep', 'x');
    const first = await storage.listPage('paged/', { delimiter: '/', details: true, limit: 3 });
    assert.deepEqual(
      first.objects.map((object) => object.key),
      ['paged/k0', 'paged/k1', 'paged/k2'],
    );
    assert.ok(first.next);
    const second = await storage.listPage('paged/', { delimiter: '/', details: true, limit: 3, next: first.next });
    assert.deepEqual(
      second.objects.map((object) => object.key),
      ['paged/k3', 'paged/k4'],
    );
    assert.deepEqual(second.folders, ['paged/sub/']);

    await storage.set('paged/k0', 'changed');
    const versions = await storage.versionsPage('paged/k0', { limit: 1 });
    assert.equal(versions.versions.length, 1);
    assert.ok(versions.next, 'a second version is on the next page');
    const rest = await storage.versionsPage('paged/k0', { limit: 1, next: versions.next });
    assert.equal(rest.versions.length, 1);
    assert.notEqual(rest.versions[0]?.versionId, versions.versions[0]?.versionId);
  });
});
