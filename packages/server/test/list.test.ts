// Guards listing: paging with X-NEXT returns each key exactly once, prefixes are byte ranges,
// and a bad or foreign paging token is a 400, never a crash or a silent restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodePageToken } from '../src/storage/page-token.js';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('list', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  const keys: string[] = [];
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token());
    for (let i = 0; i < 2500; i++) keys.push(`many/${String(i).padStart(5, '0')}`);
    // Written in batches (below the per-user limit of requests in flight) to keep the test quick;
    // order of writes is shuffled on purpose.
    const shuffled = [...keys].sort(() => Math.random() - 0.5);
    for (let i = 0; i < shuffled.length; i += 50) {
      const batch = shuffled.slice(i, i + 50).map((key) => py.put(`/data/set/${encodeURIComponent(key)}`, key));
      for (const response of await Promise.all(batch)) assert.equal(response.status, 200, response.text);
    }
    await py.put('/data/set/other', 'x');
    await py.put('/data/set/man', 'x');
  });
  after(() => ts.close());

  test('paging over 2,500 keys returns each exactly once, in order, in pages of at most 1000', async () => {
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let next: string | undefined;
    do {
      const response = await py.get('/data/list?prefix=many%2F', next ? { 'x-next': next } : {});
      assert.equal(response.status, 200);
      const page = response.json<string[]>();
      pageSizes.push(page.length);
      seen.push(...page);
      next = response.headers['x-next'] as string | undefined;
    } while (next);
    assert.deepEqual(pageSizes, [1000, 1000, 500]);
    assert.deepEqual(seen, keys);
  });

  test('without a prefix every key is listed; the page ends where the prefix range ends', async () => {
    const first = await py.get('/data/list');
    const page = first.json<string[]>();
    assert.equal(page.length, 1000);
    assert.equal(page[0], 'man');
    const prefixed = await py.get('/data/list?prefix=man&limit=3');
    assert.deepEqual(prefixed.json(), ['man', 'many/00000', 'many/00001']);
    const last = await py.get('/data/list?prefix=oth');
    assert.deepEqual(last.json(), ['other']);
    assert.equal(last.headers['x-next'], undefined);
    assert.deepEqual((await py.get('/data/list?prefix=zzz')).json(), []);
  });

  test('limit pages smaller; out-of-range limits are a 400', async () => {
    const response = await py.get('/data/list?prefix=many%2F&limit=7');
    assert.deepEqual(response.json(), keys.slice(0, 7));
    for (const limit of ['0', '1001', 'abc', '2.5']) {
      const bad = await py.get(`/data/list?limit=${limit}`);
      assert.equal(bad.status, 400, `limit=${limit}`);
      assert.equal(bad.json<{ code: string }>().code, 'InvalidArgument');
    }
  });

  test('a malformed X-NEXT token is a 400 InvalidPageToken', async () => {
    for (const token of ['garbage', '!!!', Buffer.from('[2,"",""]').toString('base64url'), Buffer.from('{}').toString('base64url')]) {
      const response = await py.get('/data/list', { 'x-next': token });
      assert.equal(response.status, 400, token);
      assert.equal(response.json<{ code: string }>().code, 'InvalidPageToken');
    }
  });

  test("a token from another prefix's listing is refused", async () => {
    const first = await py.get('/data/list?prefix=many%2F&limit=2');
    const response = await py.get('/data/list?prefix=other', { 'x-next': String(first.headers['x-next']) });
    assert.equal(response.status, 400);
    assert.equal(response.json<{ code: string }>().code, 'InvalidPageToken');
  });

  test('a well-formed token continues strictly after its key', async () => {
    const response = await py.get('/data/list?prefix=many%2F&limit=2', { 'x-next': encodePageToken('many/', 'many/00009') });
    assert.deepEqual(response.json(), ['many/00010', 'many/00011']);
  });
});
