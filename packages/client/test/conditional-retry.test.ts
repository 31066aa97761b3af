// Guards conditional writes whose response was lost: the retry's 412 is the client's own write
// showing through, so `set` with ifNoneMatch / ifMatch must succeed when the stored bytes are the
// ones it sent, and still fail with PreconditionFailedError when they are someone else's, or when
// the very first attempt was refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { hashWhileSending } from '../src/conditional-write.js';
import { bodyFromFile } from '../src/node/file-bodies.js';
import { Auth, PreconditionFailedError, Retry, Storage } from '../src/node/index.js';
import { nodeSha256 } from '../src/node/node-sha256.js';
import { firstOf, startFaultProxy } from './fault-proxy.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('conditional set after a lost response', () => {
  let ts: TestServer;
  let token: string;
  let dir: string;
  const cleanups: Array<() => unknown> = [];
  const clientFor = (url: string) => {
    const client = new Storage({ url, auth: new Auth({ token, env: {} }), retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }) });
    cleanups.push(() => client.close());
    return client;
  };
  /** A client whose first PUT reaches the server but never gets its answer back. */
  const clientLosingFirstPut = async () => {
    const proxy = await startFaultProxy(ts.url, { dropAnswer: firstOf('PUT') });
    cleanups.push(() => proxy.close());
    return { storage: clientFor(proxy.url), proxy };
  };
  before(async () => {
    ts = await startTestServer();
    token = await ts.token('dora');
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-conditional-'));
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('ifNoneMatch: the write landed, the retry sees 412, and set still succeeds', async () => {
    const { storage, proxy } = await clientLosingFirstPut();
    const result = await storage.set('created-once', 'mine', { ifNoneMatch: true });
    assert.equal(proxy.stats.dropped, 1, 'the first answer was lost');
    assert.equal(proxy.stats.forwarded, 3, 'PUT, retried PUT, HEAD');
    assert.deepEqual(result, { key: 'created-once', size: 4, etag: `"${sha256('mine')}"`, sha256: sha256('mine') });
    assert.equal(await clientFor(ts.url).get('created-once'), 'mine');
  });

  test('ifMatch: the replacement landed, the retry sees 412, and set still succeeds', async () => {
    const direct = clientFor(ts.url);
    const { etag } = await direct.set('replaced-once', 'v1');
    const { storage, proxy } = await clientLosingFirstPut();
    const result = await storage.set('replaced-once', 'v2', { ifMatch: etag });
    assert.equal(proxy.stats.dropped, 1);
    assert.equal(result.sha256, sha256('v2'));
    assert.equal(await direct.get('replaced-once'), 'v2');
  });

  test('a Blob and a file, hashed as they are sent, are recognised too', async () => {
    const { storage } = await clientLosingFirstPut();
    assert.equal((await storage.set('from-blob', new Blob(['blob bytes']), { ifNoneMatch: true })).sha256, sha256('blob bytes'));
    const file = path.join(dir, 'small.txt');
    await writeFile(file, 'file bytes');
    const second = await clientLosingFirstPut();
    assert.equal((await second.storage.setFile('from-file', file, { ifNoneMatch: true })).sha256, sha256('file bytes'));
  });

  test('a body no attempt sent whole (a cut connection, a 412 before the body was read) is hashed again from its start', async () => {
    const bytes = Buffer.from('file bytes, never sent whole. '.repeat(200_000));
    const file = path.join(dir, 'unsent.bin');
    await writeFile(file, bytes);
    const hashed = hashWhileSending(await bodyFromFile(file), nodeSha256);
    // An attempt that read one chunk of the file and was cut off.
    const attempt = hashed.body.create() as AsyncIterable<Uint8Array>;
    for await (const _chunk of attempt) break;
    assert.equal(await hashed.sha256(), createHash('sha256').update(bytes).digest('hex'));
  });

  test("someone else's value at the key is still a PreconditionFailedError after a retry", async () => {
    const direct = clientFor(ts.url);
    await direct.set('taken', 'theirs');
    const { storage, proxy } = await clientLosingFirstPut();
    await assert.rejects(
      storage.set('taken', 'mine', { ifNoneMatch: true }),
      (error: unknown) => error instanceof PreconditionFailedError && error.status === 412 && error.code === 'PreconditionFailed',
    );
    assert.equal(proxy.stats.dropped, 1, 'the refusal came on the retry');
    assert.equal(await direct.get('taken'), 'theirs');
  });

  test('a 412 on the first attempt is final, even when the stored bytes are equal', async () => {
    const direct = clientFor(ts.url);
    await direct.set('same-bytes', 'equal');
    await assert.rejects(direct.set('same-bytes', 'equal', { ifNoneMatch: true }), PreconditionFailedError);
  });
});
