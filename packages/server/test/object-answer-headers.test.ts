// Guards every answer that carries an object's bytes or headers: each one says
// `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox`, so a page a user
// stored (HTML, SVG, a script) is never run as a document of the server's origin, whichever path
// served it: storage API v1 GET and HEAD (the fast path and the route), ranges, 304s, signed URLs,
// S3 GetObject and HeadObject (the AWS SDK, presigned URLs, the S3 port) and their overrides.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const PAGE = '<!doctype html><title>stored</title><script>document.title = "ran"</script>';
/** Larger than what the index holds inline, so it is read from the blob store. */
const BIG_PAGE = `${PAGE}<!-- ${'x'.repeat(40_000)} -->`;

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Asserts the answer is the one `what` expected, and keeps a stored page inert. */
function assertInert(what: string, status: number, expected: number, headers: HeaderSource): void {
  assert.equal(status, expected, `${what}: status`);
  assertInertHeaders(what, headers);
}

function assertInertHeaders(what: string, headers: HeaderSource): void {
  assert.equal(header(headers, 'x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
  assert.match(header(headers, 'content-security-policy') ?? '', /(^|;)\s*sandbox(;|$)/, `${what}: Content-Security-Policy`);
}

async function fastReads(ts: TestServer): Promise<number> {
  const text = await (await fetch(`${ts.origin}/metrics`)).text();
  return Number(/^stowage_http_fast_reads_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('every object answer keeps stored pages inert', () => {
  let ts: TestServer;
  let api: ApiClient;
  let s3: S3Client;
  let s3Root: S3Client;
  let etag: string;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    api = apiClient(ts.origin, await ts.token('alice'));
    assert.equal((await api.put('data', 'page.html', PAGE, { 'content-type': 'text/html' })).status, 200);
    assert.equal((await api.put('data', 'big.html', BIG_PAGE, { 'content-type': 'text/html' })).status, 200);
    etag = String((await api.head('data', 'page.html')).headers.etag);
    const key = await ts.server.createApiKey('alice');
    const credentials = { accessKeyId: key.clientId, secretAccessKey: key.secret };
    const client = (endpoint: string) => new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
    s3 = client(`${ts.origin}/s3`);
    s3Root = client(ts.server.s3RootUrl() ?? assert.fail('no S3 port'));
  });
  after(async () => {
    s3?.destroy();
    s3Root?.destroy();
    await ts?.close();
  });

  test('storage API v1: the fast path, the route, HEAD, a range and a 304', async () => {
    const fastBefore = await fastReads(ts);
    const fast = await api.get('data', 'page.html');
    assertInert('fast-path GET', fast.status, 200, fast.headers);
    assert.equal(fast.text, PAGE);
    const fastHead = await api.head('data', 'page.html');
    assertInert('fast-path HEAD', fastHead.status, 200, fastHead.headers);
    assert.equal(await fastReads(ts), fastBefore + 2, 'the fast path answered both');

    const blob = await api.get('data', 'big.html');
    assertInert('GET from the blob store', blob.status, 200, blob.headers);
    const blobHead = await api.head('data', 'big.html');
    assertInert('HEAD through the route', blobHead.status, 200, blobHead.headers);
    const range = await api.get('data', 'page.html', { range: 'bytes=0-9' });
    assertInert('GET with Range', range.status, 206, range.headers);
    const notModified = await api.get('data', 'page.html', { 'if-none-match': etag });
    assertInert('GET with If-None-Match', notModified.status, 304, notModified.headers);
    assert.equal(await fastReads(ts), fastBefore + 2, 'the route answered the rest');
  });

  test('signed URLs: GET, HEAD, a range, a 304 and one that names a file', async () => {
    const signed = (await api.call('GET', '/data/get_signed_url/page.html')).text;
    const get = await fetch(signed);
    assertInert('signed GET', get.status, 200, get.headers);
    assert.equal(await get.text(), PAGE);
    const head = await fetch(signed, { method: 'HEAD' });
    assertInert('signed HEAD', head.status, 200, head.headers);
    const range = await fetch(signed, { headers: { range: 'bytes=2-' } });
    assertInert('signed GET with Range', range.status, 206, range.headers);
    await range.arrayBuffer();
    const notModified = await fetch(signed, { headers: { 'if-none-match': etag } });
    assertInert('signed GET with If-None-Match', notModified.status, 304, notModified.headers);
    const named = await fetch((await api.call('GET', '/data/get_signed_url/big.html?filename=page.html')).text);
    assertInert('signed GET with a file name', named.status, 200, named.headers);
    assert.match(named.headers.get('content-disposition') ?? '', /^attachment;/);
    await named.arrayBuffer();
  });

  test('S3 GetObject and HeadObject through the AWS SDK, on /s3 and on the S3 port', async () => {
    for (const [where, client] of [
      ['/s3', s3],
      ['S3 port', s3Root],
    ] as const) {
      const seen: Array<Record<string, string>> = [];
      client.middlewareStack.add(
        (next) => async (args) => {
          const out = await next(args);
          seen.push((out.response as { headers: Record<string, string> }).headers);
          return out;
        },
        { step: 'deserialize', name: 'keepResponseHeaders' },
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'page.html' }));
      assert.equal(await got.Body?.transformToString(), PAGE);
      const ranged = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'big.html', Range: 'bytes=0-99' }));
      await ranged.Body?.transformToByteArray();
      const head = await client.send(new HeadObjectCommand({ Bucket: 'data', Key: 'page.html' }));
      const statuses = [got, ranged, head].map((answer) => answer.$metadata.httpStatusCode ?? 0);
      assert.deepEqual(statuses, [200, 206, 200], where);
      assert.equal(seen.length, 3, where);
      for (const [i, headers] of seen.entries()) assertInertHeaders(`${where} answer ${i + 1}`, headers);
    }
  });

  test('S3 presigned URLs: GET, HEAD, a 304, and a response-content-type override', async () => {
    const presigned = (command: GetObjectCommand | HeadObjectCommand) => getSignedUrl(s3, command, { expiresIn: 300 });
    const get = await fetch(await presigned(new GetObjectCommand({ Bucket: 'data', Key: 'page.html' })));
    assertInert('presigned GetObject', get.status, 200, get.headers);
    await get.arrayBuffer();
    const head = await fetch(await presigned(new HeadObjectCommand({ Bucket: 'data', Key: 'page.html' })), { method: 'HEAD' });
    assertInert('presigned HeadObject', head.status, 200, head.headers);
    const url = await presigned(new GetObjectCommand({ Bucket: 'data', Key: 'page.html' }));
    const notModified = await fetch(url, { headers: { 'if-none-match': etag } });
    assertInert('presigned GetObject with If-None-Match', notModified.status, 304, notModified.headers);
    const overridden = await fetch(
      await presigned(new GetObjectCommand({ Bucket: 'data', Key: 'big.html', ResponseContentType: 'text/html; charset=utf-8' })),
    );
    assertInert('presigned GetObject with response-content-type', overridden.status, 200, overridden.headers);
    assert.equal(overridden.headers.get('content-type'), 'text/html; charset=utf-8');
    await overridden.arrayBuffer();
  });
});
