// Guards read offload (docs/deploy.md, "Read offload"): a large GET whose bytes nginx sends from the
// blob file, or that sends the client to the S3 store, answers exactly what the server would have
// (bytes, range, headers), and only after the server's own authentication, access decision and
// conditions. The first suite runs the documented nginx block with a real nginx (embedded
// deployment); the second follows the redirects into Ceph RGW (scale-out deployment).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Auth, Storage } from 'stowage-client';
import { deployment } from './helpers/deployment.js';
import { docBlock } from './helpers/doc-blocks.js';
import { nginxSkip, type RunningNginx, startNginx } from './helpers/nginx.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MIN_BYTES = 64 * 1024;
const big = randomBytes(300 * 1024);
const small = randomBytes(1000);

/** The headers both answers must agree on: every one but those of the connection and the request. */
const PER_RESPONSE = new Set(['date', 'connection', 'keep-alive', 'server', 'x-request-id', 'accept-ranges', 'transfer-encoding']);

function comparable(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE.has(name)));
}

async function offloadedBytes(ts: TestServer, mode: string): Promise<number> {
  const text = (await rawRequest(ts.origin, 'GET', '/metrics')).text;
  const found = new RegExp(`^stowage_object_bytes_offloaded_total\\{mode="${mode}"\\} (\\d+)`, 'm').exec(text);
  return Number(found?.[1] ?? 0);
}

const nginxReason = deployment !== 'embedded' ? 'nginx sends blob files: embedded deployment only' : nginxSkip;

describe('read offload to nginx (X-Accel-Redirect)', { skip: nginxReason }, () => {
  let ts: TestServer;
  let nginx: RunningNginx;
  let auth: Record<string, string>;
  const get = (origin: string, key: string, headers: Record<string, string> = {}) =>
    rawRequest(origin, 'GET', `/storage/v1/data/get/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers } });

  before(async () => {
    ts = await startTestServer({
      readOffload: { kind: 'nginx', minBytes: MIN_BYTES, location: '/_stowage_blobs/' },
      corsOrigins: ['https://app.example'],
    });
    auth = { authorization: `Bearer ${await ts.token('alice')}` };
    const block = (await docBlock('docs/deploy.md', 'nginx-offload', 'nginx'))
      .replace('http://127.0.0.1:8787', ts.origin)
      .replace('/var/lib/stowage/blobs/', `${path.join(ts.dataDir, 'blobs')}/`);
    nginx = await startNginx(block);
    const put = (key: string, body: Buffer, headers: Record<string, string> = {}) =>
      rawRequest(ts.origin, 'PUT', `/storage/v1/data/set/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers }, body });
    assert.equal((await put('big.csv', big, { 'content-type': 'text/csv', 'cache-control': 'max-age=60' })).status, 200);
    assert.equal((await put('small.bin', small)).status, 200);
    assert.equal((await put('tagged.bin', big, { 'x-stowage-meta-owner': 'alice' })).status, 200);
    const tmp = await rawRequest(ts.origin, 'PUT', '/storage/v1/tmp/set/expiring.bin?expires_in=3600', { headers: auth, body: big });
    assert.equal(tmp.status, 200);
  });
  after(async () => {
    await nginx?.stop();
    await ts?.close();
  });

  test('nginx sends a large object with the headers the server gives, and the server counts it', async () => {
    const before = await offloadedBytes(ts, 'nginx');
    const direct = await get(ts.origin, 'big.csv');
    const proxied = await get(nginx.origin, 'big.csv');
    assert.equal(proxied.status, 200);
    assert.ok(proxied.body.equals(big), 'the same bytes');
    assert.equal(proxied.headers['x-accel-redirect'], undefined, 'nginx consumed the redirect');
    assert.deepEqual(comparable(proxied.headers), comparable(direct.headers));
    assert.equal(proxied.headers['cache-control'], 'max-age=60');
    assert.equal(await offloadedBytes(ts, 'nginx'), before + big.length);
  });

  test('every kind of answer keeps every header through the documented block: expiring, signed, cross-origin, HEAD', async () => {
    const signed = (await rawRequest(ts.origin, 'GET', '/storage/v1/data/get_signed_url/big.csv?filename=a.csv', { headers: auth })).text;
    const signedPath = signed.slice(ts.origin.length);
    const reads: Array<[string, string, Record<string, string>]> = [
      ['GET', '/storage/v1/tmp/get/expiring.bin', auth],
      ['HEAD', '/storage/v1/data/get/big.csv', auth],
      ['GET', signedPath, {}],
      ['GET', signedPath, { origin: 'https://app.example' }],
    ];
    for (const [method, path, headers] of reads) {
      const before = await offloadedBytes(ts, 'nginx');
      const direct = await rawRequest(ts.origin, method, path, { headers });
      const proxied = await rawRequest(nginx.origin, method, path, { headers });
      assert.equal(proxied.status, direct.status, `${method} ${path}`);
      assert.deepEqual(comparable(proxied.headers), comparable(direct.headers), `${method} ${path} ${JSON.stringify(headers)}`);
      assert.ok(proxied.body.equals(direct.body));
      const offloaded = (await offloadedBytes(ts, 'nginx')) - before;
      assert.equal(
        offloaded,
        method === 'GET' ? big.length : 0,
        `${method} ${path}: ${method === 'GET' ? 'sent by nginx' : 'answered here'}`,
      );
    }
    const crossOrigin = await rawRequest(nginx.origin, 'GET', signedPath, { headers: { origin: 'https://app.example' } });
    assert.equal(crossOrigin.headers['access-control-allow-origin'], 'https://app.example');
    const expiring = await rawRequest(nginx.origin, 'GET', '/storage/v1/tmp/get/expiring.bin', { headers: auth });
    assert.ok(expiring.headers['x-stowage-expires-at'], 'the expiry survives the handoff');
  });

  test('a range is checked by the server and cut by nginx', async () => {
    const before = await offloadedBytes(ts, 'nginx');
    const proxied = await get(nginx.origin, 'big.csv', { range: 'bytes=1000-70999' });
    assert.equal(proxied.status, 206);
    assert.equal(await offloadedBytes(ts, 'nginx'), before + 70000, 'sent by nginx');
    assert.equal(proxied.headers['content-range'], `bytes 1000-70999/${big.length}`);
    assert.ok(proxied.body.equals(big.subarray(1000, 71000)));
    const suffix = await get(nginx.origin, 'big.csv', { range: `bytes=-${MIN_BYTES}` });
    assert.ok(suffix.body.equals(big.subarray(big.length - MIN_BYTES)));
    const past = await get(nginx.origin, 'big.csv', { range: `bytes=${big.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], `bytes */${big.length}`);
  });

  test("conditions are the server's: 304 on the ETag, and a resume with If-Match is served by the server", async () => {
    const { etag } = (await get(ts.origin, 'big.csv')).headers;
    const notModified = await get(nginx.origin, 'big.csv', { 'if-none-match': String(etag) });
    assert.equal(notModified.status, 304);
    const before = await offloadedBytes(ts, 'nginx');
    const resumed = await get(nginx.origin, 'big.csv', { range: 'bytes=100000-', 'if-match': String(etag) });
    assert.equal(resumed.status, 206);
    assert.ok(resumed.body.equals(big.subarray(100000)));
    assert.equal(await offloadedBytes(ts, 'nginx'), before, 'nginx would refuse If-Match against its own ETag');
    const changed = await get(nginx.origin, 'big.csv', { 'if-match': '"other"' });
    assert.equal(changed.status, 412);
    // Conditions that hold are not judged again by nginx against the file's own dates.
    const lastModified = new Date(Date.parse(String((await get(ts.origin, 'big.csv')).headers['last-modified'])) - 60_000);
    for (const condition of [{ 'if-none-match': '"other"' }, { 'if-modified-since': lastModified.toUTCString() }]) {
      const offloaded = await offloadedBytes(ts, 'nginx');
      const fresh = await get(nginx.origin, 'big.csv', condition);
      assert.equal(fresh.status, 200, JSON.stringify(condition));
      assert.ok(fresh.body.equals(big));
      assert.equal(await offloadedBytes(ts, 'nginx'), offloaded + big.length, `${JSON.stringify(condition)} sent by nginx`);
    }
  });

  test('no token, or another user, gets no bytes; the internal location cannot be asked for', async () => {
    const anonymous = await rawRequest(nginx.origin, 'GET', '/storage/v1/data/get/big.csv');
    assert.equal(anonymous.status, 401);
    assert.ok(!anonymous.body.includes(big.subarray(0, 64)));
    const bob = await get(nginx.origin, 'big.csv', { authorization: `Bearer ${await ts.token('bob')}` });
    assert.equal(bob.status, 404);
    const files = await ts.files();
    const blob = files.blobs[0];
    assert.ok(blob, 'a blob file');
    const internal = await rawRequest(nginx.origin, 'GET', `/_stowage_blobs/${blob.slice(0, 2)}/${blob}`);
    assert.equal(internal.status, 404);
  });

  test('small objects, objects with metadata and requests that bypass nginx are served by the server', async () => {
    const before = await offloadedBytes(ts, 'nginx');
    assert.ok((await get(nginx.origin, 'small.bin')).body.equals(small));
    const tagged = await get(nginx.origin, 'tagged.bin');
    assert.ok(tagged.body.equals(big));
    assert.equal(tagged.headers['x-stowage-meta-owner'], 'alice');
    const direct = await get(ts.origin, 'big.csv');
    assert.ok(direct.body.equals(big));
    assert.equal(direct.headers['x-accel-redirect'], undefined);
    assert.equal(await offloadedBytes(ts, 'nginx'), before);
  });

  test('a client cannot turn the handoff off or on past nginx: nginx sets X-Sendfile-Type itself', async () => {
    const before = await offloadedBytes(ts, 'nginx');
    const forged = await get(nginx.origin, 'big.csv', { 'x-sendfile-type': 'none' });
    assert.ok(forged.body.equals(big));
    assert.equal(await offloadedBytes(ts, 'nginx'), before + big.length);
  });

  test('signed URLs and the client library go through nginx unchanged', async () => {
    const signed = (await rawRequest(ts.origin, 'GET', '/storage/v1/data/get_signed_url/big.csv?filename=q1.csv', { headers: auth })).text;
    const viaNginx = signed.replace(ts.origin, nginx.origin);
    const response = await rawRequest(nginx.origin, 'GET', viaNginx.slice(nginx.origin.length));
    assert.equal(response.status, 200);
    assert.ok(response.body.equals(big));
    assert.match(String(response.headers['content-disposition']), /attachment; filename="q1.csv"/);
    const storage = new Storage({ url: `${nginx.origin}/storage/v1`, auth: new Auth({ token: await ts.token('alice') }) });
    try {
      assert.ok(Buffer.from(await storage.getBytes('big.csv')).equals(big));
    } finally {
      await storage.close();
    }
  });

  test('a replaced blob outlives its row long enough for nginx to open it', async () => {
    const blobsBefore = new Set((await ts.files()).blobs);
    const put = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/big.csv', { headers: auth, body: randomBytes(MIN_BYTES * 2) });
    assert.equal(put.status, 200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const blob of blobsBefore) assert.ok(existsSync(path.join(ts.dataDir, 'blobs', blob.slice(0, 2), blob)), `${blob} is kept`);
  });
});

describe('read offload by redirect to the S3 store', {
  skip: deployment === 'embedded' && 'redirects go to an S3 store: scale-out deployment only',
}, () => {
  let ts: TestServer;
  let auth: Record<string, string>;
  const path = (key: string) => `/storage/v1/data/get/${encodeURIComponent(key)}`;

  before(async () => {
    ts = await startTestServer({ readOffload: { kind: 'redirect', minBytes: MIN_BYTES, ttlMs: 60_000 } });
    auth = { authorization: `Bearer ${await ts.token('alice')}` };
    const put = (key: string, body: Buffer, headers: Record<string, string> = {}) =>
      rawRequest(ts.origin, 'PUT', `/storage/v1/data/set/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers }, body });
    assert.equal((await put('big.csv', big, { 'content-type': 'text/csv', 'x-stowage-meta-owner': 'alice' })).status, 200);
    assert.equal((await put('small.bin', small)).status, 200);
  });
  after(() => ts?.close());

  test("a large GET is a 307 to a presigned URL, with the object's headers; the URL needs no credentials", async () => {
    const before = await offloadedBytes(ts, 'redirect');
    const answer = await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: auth });
    assert.equal(answer.status, 307);
    assert.equal(answer.body.length, 0);
    assert.equal(answer.headers['cache-control'], 'no-store');
    assert.match(String(answer.headers.etag), /^"/);
    assert.equal(answer.headers['x-stowage-meta-owner'], 'alice');
    const location = String(answer.headers.location);
    const { blobs } = ts.server.context.config;
    assert.ok(blobs.kind === 's3' && blobs.endpoint && location.startsWith(blobs.endpoint), location);
    assert.match(location, /X-Amz-Signature=/);
    const stored = await fetch(location);
    assert.equal(stored.status, 200);
    assert.equal(stored.headers.get('content-type'), 'text/csv');
    assert.ok(Buffer.from(await stored.arrayBuffer()).equals(big));
    assert.equal(await offloadedBytes(ts, 'redirect'), before + big.length);
  });

  test('the server still decides: 401 without a token, 404 for another user, 304, 412, 416', async () => {
    assert.equal((await rawRequest(ts.origin, 'GET', path('big.csv'))).status, 401);
    const bob = await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: { authorization: `Bearer ${await ts.token('bob')}` } });
    assert.equal(bob.status, 404);
    assert.equal(bob.headers.location, undefined);
    const { etag } = (await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: auth })).headers;
    assert.equal(
      (await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: { ...auth, 'if-none-match': String(etag) } })).status,
      304,
    );
    assert.equal((await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: { ...auth, 'if-match': '"x"' } })).status, 412);
    const past = await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: { ...auth, range: `bytes=${big.length}-` } });
    assert.equal(past.status, 416);
  });

  test('a presigned URL edited to name another blob is refused by the store', async () => {
    const answer = await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: auth });
    const edited = String(answer.headers.location).replace(/blobs\/([0-9a-f])/, (_, digit: string) => `blobs/${digit === '0' ? '1' : '0'}`);
    assert.equal((await fetch(edited)).status, 403);
  });

  test('a signed URL with a file name redirects to a store answer that names the file the same', async () => {
    const signedUrl = (
      await rawRequest(
        ts.origin,
        'GET',
        `/storage/v1/data/get_signed_url/big.csv?filename=${encodeURIComponent('Rapport été (final)*.csv')}`,
        { headers: auth },
      )
    ).text;
    const answer = await rawRequest(ts.origin, 'GET', signedUrl.slice(ts.origin.length));
    assert.equal(answer.status, 307);
    const stored = await fetch(String(answer.headers.location));
    assert.equal(stored.status, 200);
    assert.equal(stored.headers.get('content-disposition'), answer.headers['content-disposition']);
    assert.match(String(answer.headers['content-disposition']), /filename\*=UTF-8''Rapport%20%C3%A9t%C3%A9/);
    await stored.arrayBuffer();
  });

  test('conditional reads are served by the server itself: the store would judge them on its own validators', async () => {
    const { etag } = (await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: auth })).headers;
    for (const condition of [{ 'if-none-match': '"other"' }, { 'if-match': String(etag), range: 'bytes=10-' }]) {
      const answer = await rawRequest(ts.origin, 'GET', path('big.csv'), { headers: { ...auth, ...condition } });
      assert.equal(answer.headers.location, undefined, JSON.stringify(condition));
      assert.ok(answer.body.equals(condition.range ? big.subarray(10) : big));
    }
  });

  test('a presigned URL never outlives the signed URL or the object that asked for it', async () => {
    const signed = (await rawRequest(ts.origin, 'GET', '/storage/v1/data/get_signed_url/big.csv?expires_in=30', { headers: auth })).text;
    const answer = await rawRequest(ts.origin, 'GET', signed.slice(ts.origin.length));
    assert.equal(answer.status, 307);
    const lasts = Number(new URL(String(answer.headers.location)).searchParams.get('X-Amz-Expires'));
    assert.ok(lasts > 0 && lasts <= 30, `X-Amz-Expires=${lasts}`);
    const stored = await rawRequest(ts.origin, 'PUT', '/storage/v1/tmp/set/soon.bin?expires_in=20', { headers: auth, body: big });
    assert.equal(stored.status, 200);
    const expiring = await rawRequest(ts.origin, 'GET', path('soon.bin').replace('/data/', '/tmp/'), { headers: auth });
    assert.equal(expiring.status, 307);
    const objectLasts = Number(new URL(String(expiring.headers.location)).searchParams.get('X-Amz-Expires'));
    assert.ok(objectLasts > 0 && objectLasts <= 20, `X-Amz-Expires=${objectLasts}`);
  });

  test('small objects are served by the server itself', async () => {
    const answer = await rawRequest(ts.origin, 'GET', path('small.bin'), { headers: auth });
    assert.equal(answer.status, 200);
    assert.ok(answer.body.equals(small));
  });

  test('the client library follows the redirect, and so does fetch on a signed URL', async () => {
    const storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('alice') }) });
    try {
      assert.ok(Buffer.from(await storage.getBytes('big.csv')).equals(big));
      const signed = await storage.getSignedUrl('big.csv');
      const viaSigned = await fetch(signed);
      assert.ok(Buffer.from(await viaSigned.arrayBuffer()).equals(big), 'a signed URL redirects too, and fetch follows it');
    } finally {
      await storage.close();
    }
  });
});
