// Guards the write path against bad uploads: a body over the limit is a 413, a client that
// disconnects mid-upload changes nothing; in both cases the previous value stays intact, no temp
// file remains, and the server keeps serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const LIMIT = 1024 * 1024;

describe('upload limits and aborted uploads', () => {
  let ts: TestServer;
  let token: string;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer({ maxObjectBytes: LIMIT });
    token = await ts.token();
    py = pythonLikeClient(ts.origin, token);
  });
  after(() => ts.close());

  const tempFiles = async () => (await ts.files()).temp;

  /** Sends the head of a request and `bytes` of body, then reads whatever response arrives. */
  function sendPartial(key: string, headers: http.OutgoingHttpHeaders, bytes: number, thenAbort: boolean) {
    const { hostname, port } = new URL(ts.origin);
    return new Promise<{ status: number; body: string } | 'aborted'>((resolve) => {
      const request = http.request(
        {
          hostname,
          port,
          method: 'PUT',
          path: `/storage/v1/data/set/${key}`,
          headers: { authorization: `Bearer ${token}`, ...headers },
          agent: false,
        },
        (response) => {
          let body = '';
          response.on('data', (chunk) => {
            body += chunk;
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          response.on('error', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', () => resolve('aborted'));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!request.write(chunk)) return request.once('drain', pump);
        }
        if (thenAbort) setTimeout(() => request.destroy(), 50);
        else request.end();
      };
      pump();
    });
  }

  test('a declared Content-Length over the limit is refused at once with 413 EntityTooLarge', async () => {
    await py.put('/data/set/declared', 'previous');
    const result = await sendPartial('declared', { 'content-length': LIMIT + 1 }, 64 * 1024, false);
    assert.notEqual(result, 'aborted');
    if (result !== 'aborted') {
      assert.equal(result.status, 413);
      assert.equal(JSON.parse(result.body).code, 'EntityTooLarge');
    }
    assert.equal((await py.get('/data/get/declared')).text, 'previous');
  });

  test('a chunked body that grows past the limit is a 413 and the previous value stays', async () => {
    await py.put('/data/set/chunked', 'previous');
    const result = await sendPartial('chunked', { 'transfer-encoding': 'chunked' }, LIMIT + 256 * 1024, false);
    if (result !== 'aborted') {
      assert.equal(result.status, 413);
      assert.equal(JSON.parse(result.body).code, 'EntityTooLarge');
    }
    assert.equal((await py.get('/data/get/chunked')).text, 'previous');
    assert.deepEqual(await tempFiles(), []);
  });

  test('a body exactly at the limit is accepted', async () => {
    const response = await py.put('/data/set/exact', Buffer.alloc(LIMIT, 1));
    assert.equal(response.status, 200);
    assert.equal(response.json<{ size: number }>().size, LIMIT);
  });

  test('a client that disconnects mid-upload leaves the previous value and no temp file', async () => {
    await py.put('/data/set/aborted', 'previous');
    for (const bytes of [1000, 200 * 1024]) {
      const result = await sendPartial('aborted', { 'content-length': 900 * 1024 }, bytes, true);
      assert.equal(result, 'aborted');
    }
    // The server notices the disconnect asynchronously.
    for (let i = 0; i < 100 && (await tempFiles()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(await tempFiles(), []);
    assert.equal((await py.get('/data/get/aborted')).text, 'previous');
    assert.equal((await py.get('/data/list?prefix=abort')).json<string[]>().length, 1);
  });

  test('the server keeps serving after all of the above', async () => {
    assert.equal((await py.put('/data/set/after', 'fine')).status, 200);
    assert.equal((await py.get('/data/get/after')).text, 'fine');
  });
});
