// The universal entry (what browsers, Deno, Bun and Workers get) used as they would: fetch,
// Web Streams, Uint8Array and Blob values, credentials given explicitly (no environment, no
// token file). Node runs it here against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, AuthError, NotFoundError, Storage } from '../src/index.js';

describe('the universal entry', () => {
  let ts: TestServer;
  let storage: Storage;
  before(async () => {
    ts = await startTestServer();
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('alice') }) });
  });
  after(async () => {
    await storage.close();
    await ts.close();
  });

  test('values go up as text, bytes, Blobs and Web streams and come back as Uint8Array and a ReadableStream', async () => {
    await storage.set('u/text', 'héllo');
    assert.equal(await storage.get('u/text'), 'héllo');
    const bytes = await storage.getBytes('u/text');
    assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
    await storage.set('u/blob', new Blob(['from a blob']), { contentType: 'text/plain' });
    assert.equal((await storage.info('u/blob')).contentType, 'text/plain');
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(`part ${i};`));
        controller.close();
      },
    });
    await storage.set('u/stream', streamed);
    const download = await storage.getStream('u/stream');
    assert.ok(download instanceof ReadableStream);
    assert.equal(await new Response(download).text(), 'part 0;part 1;part 2;part 3;');
    const keys: string[] = [];
    for await (const key of storage.iterList('u/')) keys.push(key);
    assert.deepEqual(keys, ['u/blob', 'u/stream', 'u/text']);
    await storage.delete('u/text');
    await assert.rejects(storage.get('u/text'), NotFoundError);
  });

  test('Auth reads no environment and no token file: without credentials a call is an AuthError', async () => {
    const saved = process.env.STOWAGE_TOKEN;
    process.env.STOWAGE_TOKEN = await ts.token('alice');
    try {
      const bare = new Storage({ url: ts.url });
      await assert.rejects(
        bare.get('anything'),
        (error: unknown) => error instanceof AuthError && !/token_info/.test((error as Error).message),
      );
    } finally {
      if (saved === undefined) delete process.env.STOWAGE_TOKEN;
      else process.env.STOWAGE_TOKEN = saved;
    }
  });
});
