// Guards signed URLs: the URL is the credential, so it must serve exactly its key and method
// until it expires, and any edited character must give 403.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeKey } from 'stowage-client/protocol';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('signed download URLs', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  const key = 'reports/q1 final+v2?.csv';
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
    await py.put(`/data/set/${encodeKey(key)}`, 'quarterly', { 'content-type': 'text/csv' });
    await py.put('/data/set/other', 'other');
  });
  after(() => ts.close());

  const signedUrl = async (k = key, query = '') => (await py.get(`/data/get_signed_url/${encodeKey(k)}${query}`)).text;

  test('serves GET and HEAD without auth, with the object headers', async () => {
    const url = await signedUrl();
    assert.match(url, /^[\x21-\x7e]+$/, 'ASCII only');
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'quarterly');
    assert.equal(response.headers.get('content-type'), 'text/csv');
    const head = await fetch(url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '9');
  });

  test('is 404 for a key that does not exist', async () => {
    const response = await py.get('/data/get_signed_url/absent');
    assert.equal(response.status, 404);
    assert.equal(response.json<{ code: string }>().code, 'NoSuchKey');
  });

  test('changing one character of the key, tenant, expiry or signature gives 403', async () => {
    const url = await signedUrl('other');
    const edits = [
      url.replace('/other?', '/othes?'),
      url.replace('/data/', '/tmp/'),
      url.replace('tenant=alice', 'tenant=alicf'),
      url.replace(/expires=(\d+)/, (_m, n) => `expires=${Number(n) + 1}`),
      url.replace(/signature=(.)/, (_m, c) => `signature=${c === 'A' ? 'B' : 'A'}`),
      url.replace(/&signature=[^&]+/, ''),
    ];
    for (const edited of edits) {
      assert.notEqual(edited, url);
      const response = await fetch(edited);
      assert.equal(response.status, 403, edited);
      assert.equal(((await response.json()) as { code: string }).code, 'InvalidSignature');
    }
  });

  test('expires: default one hour, or expires_in seconds up to 7 days', async () => {
    const url = await signedUrl('other', '?expires_in=60');
    assert.equal((await fetch(url)).status, 200);
    ts.clock.advance(61_000);
    const expired = await fetch(url);
    assert.equal(expired.status, 403);
    assert.equal(((await expired.json()) as { code: string }).code, 'UrlExpired');
    assert.equal((await py.get('/data/get_signed_url/other?expires_in=604801')).status, 400);
    assert.equal((await py.get('/data/get_signed_url/other?expires_in=-5')).status, 400);
  });

  test('serves no other method', async () => {
    const url = new URL(await signedUrl('other'));
    for (const method of ['PUT', 'DELETE', 'POST']) {
      const response = await rawRequest(ts.origin, method, url.pathname + url.search, method === 'DELETE' ? {} : { body: 'x' });
      assert.equal(response.status, 405, method);
      assert.equal(response.json<{ code: string }>().code, 'MethodNotAllowed');
    }
    assert.equal((await py.get('/data/get/other')).text, 'other');
  });

  test('the URL honours the configured public origin', async () => {
    const other = await startTestServer({ publicUrl: 'https://storage.example.com' });
    try {
      const client = pythonLikeClient(other.origin, await other.token('alice'));
      await client.put('/data/set/k', 'v');
      assert.match((await client.get('/data/get_signed_url/k')).text, /^https:\/\/storage\.example\.com\/storage\/v1\/signed\/data\/k\?/);
    } finally {
      await other.close();
    }
  });
});

describe('signed URLs on a user-content origin', () => {
  test('download URLs name the user-content origin, upload URLs the public one', async () => {
    const ts = await startTestServer({ publicUrl: 'https://storage.example.com', userContentUrl: 'https://usercontent.example.net' });
    try {
      const client = pythonLikeClient(ts.origin, await ts.token('alice'));
      await client.put('/data/set/page.html', '<p>hi</p>', { 'content-type': 'text/html' });
      const download = new URL((await client.get('/data/get_signed_url/page.html')).text);
      assert.equal(download.origin, 'https://usercontent.example.net');
      assert.equal(download.pathname, '/storage/v1/signed/data/page.html');
      const named = new URL((await client.get('/data/get_signed_url/page.html?filename=p.html')).text);
      assert.equal(named.origin, 'https://usercontent.example.net');
      const upload = new URL((await client.get('/data/new_resumable_url/next.bin')).text);
      assert.equal(upload.origin, 'https://storage.example.com');
      // The name routes to the same servers: the path and query are all a server needs.
      const served = await rawRequest(ts.origin, 'GET', download.pathname + download.search, {
        headers: { host: 'usercontent.example.net' },
      });
      assert.equal(served.status, 200);
      assert.equal(served.text, '<p>hi</p>');
    } finally {
      await ts.close();
    }
  });
});

describe('upload URLs (whole-body PUT)', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
  });
  after(() => ts.close());

  const uploadUrl = async (key: string, query = '') => new URL((await py.get(`/data/new_resumable_url/${encodeKey(key)}${query}`)).text);
  const putTo = (url: URL, body: string, headers: Record<string, string> = {}) =>
    rawRequest(ts.origin, 'PUT', url.pathname + url.search, { headers: { 'content-type': 'application/octet-stream', ...headers }, body });

  test('a PUT of the whole body stores it under the key and answers {key, size, etag}', async () => {
    const url = await uploadUrl('up/loaded file');
    const response = await putTo(url, 'uploaded bytes');
    assert.equal(response.status, 200);
    const body = response.json<{ key: string; size: number; etag: string }>();
    assert.equal(body.key, 'up/loaded file');
    assert.equal(body.size, 14);
    assert.equal((await py.get(`/data/get/${encodeKey('up/loaded file')}`)).text, 'uploaded bytes');
  });

  test('content_type given when the URL was made is the stored type', async () => {
    const url = await uploadUrl('typed', '?content_type=image%2Fpng');
    await putTo(url, 'png');
    assert.equal((await py.get('/data/get/typed')).headers['content-type'], 'image/png');
  });

  test('a tampered or expired upload URL is 403 and stores nothing', async () => {
    const url = await uploadUrl('guarded', '?expires_in=60');
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace('guarded', 'guardee');
    assert.equal((await putTo(otherKey, 'x')).status, 403);
    const otherTenant = new URL(url);
    otherTenant.searchParams.set('tenant', 'bob');
    assert.equal((await putTo(otherTenant, 'x')).status, 403);
    ts.clock.advance(61_000);
    const expired = await putTo(url, 'late');
    assert.equal(expired.status, 403);
    assert.equal(expired.json<{ code: string }>().code, 'UrlExpired');
    assert.equal((await py.get('/data/get/guarded')).status, 404);
    assert.equal((await py.get('/data/get/guardee')).status, 404);
  });

  test('an upload URL used for GET is 405; a first chunk is a 308 and nothing is visible yet', async () => {
    const url = await uploadUrl('chunky');
    assert.equal((await rawRequest(ts.origin, 'GET', url.pathname + url.search)).status, 405);
    const partial = await putTo(url, 'abc', { 'content-range': 'bytes 0-2/10' });
    assert.equal(partial.status, 308);
    assert.equal(partial.headers.range, 'bytes=0-2');
    assert.equal((await py.get('/data/get/chunky')).status, 404);
  });
});
