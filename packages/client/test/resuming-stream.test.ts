// Guards getStream({ resume: true }), the download that resumes in any runtime: through a proxy
// that cuts the connection mid-body it asks for the rest (Range + If-Match) and yields every byte
// once; a value replaced meanwhile ends it with PreconditionFailedError instead of stitching two versions.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, ConnectionError, PreconditionFailedError, Retry, Storage } from '../src/node/index.js';
import { startCuttingProxy } from './cutting-proxy.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

describe('getStream with resume', () => {
  let ts: TestServer;
  let token: string;
  const clients: Storage[] = [];
  const clientFor = (url: string) => {
    const client = new Storage({ url, auth: new Auth({ token, env: {} }), retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }) });
    clients.push(client);
    return client;
  };
  before(async () => {
    ts = await startTestServer();
    token = await ts.token('alice');
  });
  after(async () => {
    for (const client of clients) await client.close();
    await ts.close();
  });

  test('a download cut twice resumes where it broke and yields every byte once', async () => {
    const value = randomBytes(10 * MiB);
    await clientFor(ts.url).set('streams/cut.bin', value);
    const proxy = await startCuttingProxy(ts.url, { download: [3 * MiB, 6 * MiB] });
    try {
      const progress: number[] = [];
      const stream = await clientFor(proxy.url).getStream('streams/cut.bin', { resume: true, onProgress: (bytes) => progress.push(bytes) });
      assert.deepEqual(await sha256Of(stream), { sha256: sha256(value), bytes: value.length });
      assert.equal(proxy.stats.cuts, 2);
      assert.equal(progress.at(-1), value.length);
    } finally {
      await proxy.close();
    }
  });

  test('without resume the same cut is an error, never a short value', async () => {
    await clientFor(ts.url).set('streams/once.bin', randomBytes(10 * MiB));
    const proxy = await startCuttingProxy(ts.url, { download: [3 * MiB] });
    try {
      const stream = await clientFor(proxy.url).getStream('streams/once.bin');
      await assert.rejects(sha256Of(stream), ConnectionError);
    } finally {
      await proxy.close();
    }
  });

  test('a value replaced before the resume ends the stream with PreconditionFailedError', async () => {
    const direct = clientFor(ts.url);
    await direct.set('streams/replaced.bin', randomBytes(64 * MiB));
    const proxy = await startCuttingProxy(ts.url, { download: [40 * MiB] });
    try {
      const stream = await clientFor(proxy.url).getStream('streams/replaced.bin', { resume: true });
      const reading = stream[Symbol.asyncIterator]();
      await reading.next();
      await direct.set('streams/replaced.bin', 'another value');
      await assert.rejects(
        (async () => {
          for (let next = await reading.next(); !next.done; next = await reading.next());
        })(),
        PreconditionFailedError,
      );
    } finally {
      await proxy.close();
    }
  });
});
