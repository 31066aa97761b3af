// Guards range reads, conditional reads and writes, checksums and per-object expiry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('range and conditional requests', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  const small = 'abcdefghijklmnopqrstuvwxyz';
  const big = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token('alice', 1000 * 3_600_000));
    await py.put('/data/set/small', small);
    await py.put('/data/set/big', big);
  });
  after(() => ts.close());

  test('single ranges get 206 with Content-Range, inline and file-backed alike', async () => {
    for (const [key, data] of [
      ['small', Buffer.from(small)],
      ['big', big],
    ] as const) {
      const size = data.length;
      for (const [header, start, end] of [
        ['bytes=0-4', 0, 4],
        ['bytes=10-', 10, size - 1],
        ['bytes=-5', size - 5, size - 1],
        [`bytes=3-${size + 100}`, 3, size - 1],
      ] as const) {
        const response = await py.get(`/data/get/${key}`, { range: header });
        assert.equal(response.status, 206, `${key} ${header}`);
        assert.equal(response.headers['content-range'], `bytes ${start}-${end}/${size}`);
        assert.equal(response.headers['content-length'], String(end - start + 1));
        assert.deepEqual(response.body, data.subarray(start, end + 1));
      }
    }
  });

  test('unsatisfiable ranges are 416 with the size; malformed ones 400; several ranges get the whole object', async () => {
    const past = await py.get('/data/get/small', { range: 'bytes=26-' });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], 'bytes */26');
    assert.equal(past.json<{ code: string }>().code, 'RangeNotSatisfiable');
    for (const header of ['bytes=5-2', 'bytes=abc', 'items=0-1', 'bytes=-']) {
      const response = await py.get('/data/get/small', { range: header });
      assert.equal(response.status, 400, header);
      assert.equal(response.json<{ code: string }>().code, 'InvalidRange');
    }
    const multi = await py.get('/data/get/small', { range: 'bytes=0-1,4-5' });
    assert.equal(multi.status, 200);
    assert.equal(multi.text, small);
  });

  test('If-None-Match and If-Modified-Since give 304 for a current copy', async () => {
    const etag = `"${sha(small)}"`;
    const notModified = await py.get('/data/get/small', { 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal((await py.get('/data/get/small', { 'if-none-match': '"other"' })).status, 200);
    const lastModified = String((await py.get('/data/get/small')).headers['last-modified']);
    assert.equal((await py.get('/data/get/small', { 'if-modified-since': lastModified })).status, 304);
    assert.equal(
      (await py.get('/data/get/small', { 'if-modified-since': new Date(Date.parse(lastModified) - 5000).toUTCString() })).status,
      200,
    );
  });

  test('GET and HEAD evaluate all four conditions in RFC 9110 §13.2.2 order', async () => {
    const etag = `"${sha(small)}"`;
    const lastModified = String((await py.get('/data/get/small')).headers['last-modified']);
    const before = new Date(Date.parse(lastModified) - 5000).toUTCString();
    const later = new Date(Date.parse(lastModified) + 5000).toUTCString();
    const cases: Array<[Record<string, string>, number, string]> = [
      [{ 'if-match': '"other"' }, 412, 'If-Match that does not match'],
      [{ 'if-match': etag }, 200, 'If-Match that matches'],
      [{ 'if-match': '*' }, 200, 'If-Match: *'],
      [{ 'if-unmodified-since': before }, 412, 'If-Unmodified-Since before the last change'],
      [{ 'if-unmodified-since': lastModified }, 200, 'If-Unmodified-Since at the last change'],
      [{ 'if-unmodified-since': 'not a date' }, 200, 'an If-Unmodified-Since that is not a date is ignored'],
      // If-Match present: If-Unmodified-Since is not evaluated (step 2 only without If-Match).
      [{ 'if-match': etag, 'if-unmodified-since': before }, 200, 'If-Match wins over If-Unmodified-Since'],
      // Step 1 and 2 come before 3 and 4: a failed If-Match is 412 even when the copy would be current.
      [{ 'if-match': '"other"', 'if-none-match': etag }, 412, 'If-Match before If-None-Match'],
      [{ 'if-unmodified-since': before, 'if-modified-since': later }, 412, 'If-Unmodified-Since before If-Modified-Since'],
      // If-None-Match present: If-Modified-Since is not evaluated.
      [{ 'if-none-match': '"other"', 'if-modified-since': later }, 200, 'If-None-Match wins over If-Modified-Since'],
      [{ 'if-none-match': etag, 'if-modified-since': before }, 304, 'a matching If-None-Match is 304 whatever the date'],
    ];
    for (const [headers, status, what] of cases) {
      const get = await py.get('/data/get/small', headers);
      assert.equal(get.status, status, `GET: ${what}`);
      if (status === 200) assert.equal(get.text, small, `GET: ${what}`);
      if (status === 412) assert.equal(get.json<{ code: string }>().code, 'PreconditionFailed', `GET: ${what}`);
      const head = await rawRequest(ts.origin, 'HEAD', '/storage/v1/data/get/small', {
        headers: { authorization: `Bearer ${await ts.token('alice')}`, ...headers },
      });
      assert.equal(head.status, status, `HEAD: ${what}`);
    }
  });

  test('If-None-Match: * creates only; a second create is 412 and the first value stays', async () => {
    assert.equal((await py.put('/data/set/once', 'first', { 'if-none-match': '*' })).status, 200);
    const second = await py.put('/data/set/once', 'second', { 'if-none-match': '*' });
    assert.equal(second.status, 412);
    assert.equal(second.json<{ code: string }>().code, 'PreconditionFailed');
    assert.equal((await py.get('/data/get/once')).text, 'first');
  });

  test('If-Match replaces only the expected version; two racing writers: exactly one wins', async () => {
    await py.put('/data/set/race', 'v0');
    const etag = `"${sha('v0')}"`;
    const results = await Promise.all(['a', 'b'].map((writer) => py.put('/data/set/race', `v1-${writer}`, { 'if-match': etag })));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 412]);
    const winner = results.findIndex((r) => r.status === 200);
    assert.equal((await py.get('/data/get/race')).text, `v1-${winner === 0 ? 'a' : 'b'}`);
    assert.equal((await py.put('/data/set/absent', 'x', { 'if-match': etag })).status, 412);
  });

  test('DELETE honours If-Match', async () => {
    await py.put('/data/set/guarded', 'keep');
    const token = await ts.token('alice');
    const refused = await rawRequest(ts.origin, 'DELETE', '/storage/v1/data/guarded', {
      headers: { authorization: `Bearer ${token}`, 'if-match': '"nope"' },
    });
    assert.equal(refused.status, 412);
    assert.equal((await py.get('/data/get/guarded')).text, 'keep');
    const allowed = await rawRequest(ts.origin, 'DELETE', '/storage/v1/data/guarded', {
      headers: { authorization: `Bearer ${token}`, 'if-match': `"${sha('keep')}"` },
    });
    assert.equal(allowed.status, 204);
  });

  test('a body that does not match its x-stowage-sha256 is refused and nothing is stored', async () => {
    await py.put('/data/set/checked', 'previous');
    for (const body of ['tampered', Buffer.alloc(100_000, 5)]) {
      const response = await py.put('/data/set/checked', body, { 'x-stowage-sha256': sha('something else') });
      assert.equal(response.status, 400);
      assert.equal(response.json<{ code: string }>().code, 'ChecksumMismatch');
    }
    assert.equal((await py.get('/data/get/checked')).text, 'previous');
    assert.deepEqual((await ts.files()).temp, []);
    assert.equal((await py.put('/data/set/checked', 'good', { 'x-stowage-sha256': sha('good') })).status, 200);
    assert.equal((await py.put('/data/set/checked', 'x', { 'x-stowage-sha256': 'zz' })).status, 400);
  });

  test('expires_in gives any storage type a lifetime, reported on HEAD', async () => {
    assert.equal((await py.put('/data/set/ephemeral?expires_in=120', 'short')).status, 200);
    const head = await py.head('/data/get/ephemeral');
    assert.equal(head.headers['x-stowage-ttl'], '120');
    ts.clock.advance(121_000);
    assert.equal((await py.get('/data/get/ephemeral')).status, 404);
    assert.equal((await py.get('/data/get/small')).status, 200, 'objects without a lifetime stay');
  });
});
