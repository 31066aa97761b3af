// Guards how the client follows a read the server offloads to its object store (docs/deploy.md,
// "Read offload"): a 307 to a presigned URL is fetched without the client's credentials and with
// the same Range, the answer keeps the server's object headers (the ETag a resume sends back), a
// cut download resumes through the server, and a store that refuses is a retried 502 StoreReadFailed.
// Both sides are small real servers: the "server" only redirects, the "store" misbehaves on purpose.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Auth, Retry, Storage, StorageError } from '../src/node/index.js';
import { startFaultServer } from './fault-server.js';

const value = randomBytes(256 * 1024);
const ETAG = '"server-etag"';

/** Answers a Range as a store does; `cutAt` ends the first answer's connection after that many bytes. */
function serveRange(request: http.IncomingMessage, response: http.ServerResponse, cutAt?: number) {
  const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
  const start = range ? Number(range[1]) : 0;
  const body = value.subarray(start);
  response.writeHead(range ? 206 : 200, {
    'content-length': body.length,
    'content-type': 'application/octet-stream',
    etag: '"store-etag"',
    ...(range && { 'content-range': `bytes ${start}-${value.length - 1}/${value.length}` }),
  });
  if (cutAt === undefined) return response.end(body);
  response.write(body.subarray(0, cutAt), () => response.socket?.destroy());
}

describe('client: reads redirected to the object store', () => {
  let store: Awaited<ReturnType<typeof startFaultServer>>;
  let server: Awaited<ReturnType<typeof startFaultServer>>;
  let storeAnswer: (request: http.IncomingMessage, response: http.ServerResponse, attempt: number) => void = () => {};
  const clients: Storage[] = [];
  const client = () => {
    const made = new Storage({
      url: server.url,
      auth: new Auth({ token: 'secret-token', env: {} }),
      retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }),
    });
    clients.push(made);
    return made;
  };

  before(async () => {
    store = await startFaultServer((request, response, attempt) => storeAnswer(request, response, attempt));
    server = await startFaultServer((request, response) => {
      if (request.headers['if-match'] !== undefined && request.headers['if-match'] !== ETAG) {
        response.writeHead(412, { 'content-type': 'application/json' });
        return response.end(JSON.stringify({ code: 'PreconditionFailed', message: 'changed' }));
      }
      response.writeHead(307, {
        location: `${new URL(store.url).origin}/bucket/blobs/0123?X-Amz-Signature=abc`,
        etag: ETAG,
        'x-stowage-sha256': 'f'.repeat(64),
        'content-type': 'application/octet-stream',
        'content-length': 0,
        'cache-control': 'no-store',
      });
      response.end();
    });
  });
  after(async () => {
    for (const made of clients) await made.close();
    await server.close();
    await store.close();
  });

  test('the bytes come from the store, which never sees the credentials', async () => {
    storeAnswer = (request, response) => serveRange(request, response);
    const storeSeen = store.seen.length;
    assert.ok(Buffer.from(await client().getBytes('k')).equals(value));
    const [toStore] = store.seen.slice(storeSeen);
    assert.ok(toStore, 'the store was asked');
    assert.equal(toStore.url, '/bucket/blobs/0123?X-Amz-Signature=abc');
    assert.equal(toStore.headers.authorization, undefined);
    assert.equal(server.seen.at(-1)?.headers.authorization, 'Bearer secret-token');
  });

  test('a cut download resumes through the server, with its ETag, and the store gets the same Range', async () => {
    storeAnswer = (request, response) => serveRange(request, response, request.headers.range ? undefined : 100_000);
    const serverSeen = server.seen.length;
    const storeSeen = store.seen.length;
    const stream = await client().getStream('k', { resume: true });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(value));
    const resumed = server.seen.slice(serverSeen)[1];
    assert.ok(resumed, 'the server was asked again');
    assert.equal(resumed.headers['if-match'], ETAG, "the server's ETag, not the store's");
    assert.match(String(resumed.headers.range), /^bytes=\d+-$/);
    const toStore = store.seen.slice(storeSeen)[1];
    assert.equal(toStore?.headers.range, resumed.headers.range);
    assert.equal(toStore?.headers['if-match'], undefined);
  });

  test('a store that refuses is 502 StoreReadFailed, retried through the server for a fresh URL', async () => {
    storeAnswer = (_request, response) => {
      response.writeHead(403, { 'content-type': 'application/xml' });
      response.end('<Error><Code>AccessDenied</Code></Error>');
    };
    const serverSeen = server.seen.length;
    const error = await client()
      .getBytes('k')
      .then(
        () => assert.fail('resolved'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof StorageError);
    assert.equal(error.status, 502);
    assert.equal(error.code, 'StoreReadFailed');
    assert.ok(server.seen.length - serverSeen > 1, 'asked the server again');
  });
});
