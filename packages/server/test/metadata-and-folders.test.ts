// Guards what an object carries besides its bytes (x-stowage-meta-*, Cache-Control,
// Content-Disposition: stored, returned on GET and HEAD, replaced by every write, non-ASCII by
// RFC 8187 or refused), signed URLs that name the download's file name, and listings by folder
// and with details, paged by X-NEXT.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('metadata, signed file names, folder and detailed listings', () => {
  let ts: TestServer;
  let api: ApiClient;
  before(async () => {
    ts = await startTestServer();
    api = apiClient(ts.origin, await ts.token());
  });
  after(() => ts.close());

  const sent = {
    'x-stowage-meta-owner': 'Ana Lima',
    'x-stowage-meta-city': "UTF-8''K%C3%B8benhavn",
    'x-stowage-meta-emoji': "UTF-8''%F0%9F%93%A6",
    'cache-control': 'public, max-age=3600',
    'content-disposition': 'inline; filename="report.pdf"',
  };

  test('metadata round-trips on GET and HEAD, inline and blob values, non-ASCII in RFC 8187 form', async () => {
    for (const [key, value] of [
      ['meta/small', 'tiny'],
      ['meta/large', 'x'.repeat(100_000)],
    ] as const) {
      assert.equal((await api.put('data', key, value, { 'x-stowage-meta-Owner': 'Ana Lima', ...sent })).status, 200);
      for (const answer of [await api.get('data', key), await api.head('data', key)]) {
        assert.equal(answer.status, 200);
        for (const [name, expected] of Object.entries(sent)) assert.equal(answer.headers[name], expected, `${key} ${name}`);
      }
    }
    const listed = await api.call('GET', '/data/list?prefix=meta%2F&details=true');
    const details = listed.json<{ objects: Array<{ key: string; metadata: Record<string, string>; cacheControl: string }> }>();
    assert.deepEqual(details.objects[0]?.metadata, { owner: 'Ana Lima', city: 'København', emoji: '📦' });
    assert.equal(details.objects[0]?.cacheControl, 'public, max-age=3600');
  });

  test('a write without metadata stores none; a copy and a move keep it', async () => {
    await api.put('data', 'meta/replaced', 'v1', sent);
    await api.copy({ source: { key: 'meta/replaced' }, destination: { key: 'meta/copy' } });
    await api.move({ source: { key: 'meta/copy' }, destination: { type: 'result', key: 'meta/moved' } });
    assert.equal((await api.head('result', 'meta/moved')).headers['x-stowage-meta-city'], "UTF-8''K%C3%B8benhavn");
    await api.put('data', 'meta/replaced', 'v2');
    const head = await api.head('data', 'meta/replaced');
    assert.equal(head.headers['x-stowage-meta-owner'], undefined);
    assert.equal(head.headers['content-disposition'], undefined);
    assert.equal(head.headers['cache-control'], 'private, no-cache', 'the default when none was stored');
  });

  test('raw non-ASCII, bad names, malformed ext-values and oversize metadata are 400 InvalidMetadata, storing nothing', async () => {
    await api.put('data', 'meta/keep', 'previous');
    const latin1 = Buffer.from('Køb', 'latin1').toString('latin1');
    for (const headers of [
      { 'x-stowage-meta-city': latin1 },
      { 'x-stowage-meta-bad.name': 'x' },
      { 'x-stowage-meta-city': "UTF-8''%C3" },
      { 'x-stowage-meta-big': 'x'.repeat(3000) },
      { 'cache-control': 'x'.repeat(2000) },
      { 'content-disposition': `attachment; filename="${latin1}"` },
    ]) {
      const answer = await api.put('data', 'meta/keep', 'new value', headers);
      assert.equal(answer.status, 400, JSON.stringify(headers));
      assert.equal(answer.json<{ code: string }>().code, 'InvalidMetadata');
    }
    assert.equal((await api.get('data', 'meta/keep')).text, 'previous');
    assert.deepEqual((await ts.files()).temp, []);
  });

  test('a resumable upload stores the metadata sent with its last chunk', async () => {
    const url = (await api.call('GET', '/data/new_resumable_url/meta%2Fresumable')).text;
    const target = new URL(url);
    const send = (range: string, body: string, headers: Record<string, string> = {}) =>
      rawRequest(ts.origin, 'PUT', target.pathname + target.search, { headers: { 'content-range': range, ...headers }, body });
    assert.equal((await send('bytes 0-2/6', 'abc')).status, 308);
    assert.equal((await send('bytes 3-5/6', 'def', { 'x-stowage-meta-stage': 'final' })).status, 200);
    assert.equal((await api.head('data', 'meta/resumable')).headers['x-stowage-meta-stage'], 'final');
  });

  test('a signed URL made with a file name downloads under it; changing the name breaks the signature', async () => {
    await api.put('data', 'meta/signed', 'payload', sent);
    const url = (await api.call('GET', `/data/get_signed_url/meta%2Fsigned?filename=${encodeURIComponent('résumé "final".pdf')}`)).text;
    const target = new URL(url);
    const got = await rawRequest(ts.origin, 'GET', target.pathname + target.search);
    assert.equal(got.status, 200);
    assert.equal(got.text, 'payload');
    assert.equal(
      got.headers['content-disposition'],
      `attachment; filename="r_sum_ \\"final\\".pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    target.searchParams.set('filename', 'other.pdf');
    assert.equal((await rawRequest(ts.origin, 'GET', target.pathname + target.search)).status, 403);
    const plain = new URL((await api.call('GET', '/data/get_signed_url/meta%2Fsigned')).text);
    const stored = await rawRequest(ts.origin, 'HEAD', plain.pathname + plain.search);
    assert.equal(stored.headers['content-disposition'], 'inline; filename="report.pdf"', 'without one, the stored disposition');
    assert.equal((await api.call('GET', '/data/get_signed_url/meta%2Fsigned?filename=a%2Fb')).status, 400);
  });

  test('delimiter listing: keys of one level and each folder once, paged across folders by X-NEXT', async () => {
    const keys = ['f/a', 'f/b/1', 'f/b/2', 'f/c', 'f/d/x/y', 'f/e/', 'f/z'];
    for (let i = 0; i < 30; i++) keys.push(`f/many/${i}`);
    for (const key of keys) assert.equal((await api.put('data', key, key)).status, 200);
    const pages: Array<{ objects: string[]; folders: string[] }> = [];
    let next: string | undefined;
    do {
      const answer = await api.call('GET', '/data/list?prefix=f%2F&delimiter=%2F&limit=2', { headers: next ? { 'x-next': next } : {} });
      assert.equal(answer.status, 200, answer.text);
      pages.push(answer.json());
      next = answer.headers['x-next'] as string | undefined;
    } while (next);
    assert.deepEqual(pages, [
      { objects: ['f/a'], folders: ['f/b/'] },
      { objects: ['f/c'], folders: ['f/d/'] },
      { objects: [], folders: ['f/e/', 'f/many/'] },
      { objects: ['f/z'], folders: [] },
    ]);
    const nested = await api.call('GET', '/data/list?prefix=f%2Fd%2F&delimiter=%2F');
    assert.deepEqual(nested.json(), { objects: [], folders: ['f/d/x/'] });
    const multi = await api.call('GET', '/data/list?prefix=f%2F&delimiter=%2F1');
    assert.ok(multi.json<{ folders: string[] }>().folders.includes('f/b/1'), 'a delimiter of several characters');
  });

  test('detailed listing pages with every field; tokens are bound to their listing', async () => {
    const answer = await api.call('GET', '/data/list?prefix=f%2Fb%2F&details=true&limit=1');
    const page = answer.json<{ objects: Array<Record<string, unknown>>; folders: string[] }>();
    assert.deepEqual(Object.keys(page.objects[0] ?? {}).sort(), [
      'cacheControl',
      'contentDisposition',
      'contentType',
      'etag',
      'expiresAt',
      'key',
      'lastModified',
      'metadata',
      'sha256',
      'size',
    ]);
    assert.equal(page.objects[0]?.key, 'f/b/1');
    assert.equal(page.objects[0]?.size, 5);
    assert.equal(page.objects[0]?.lastModified, new Date(ts.clock.now()).toISOString());
    const token = answer.headers['x-next'] as string;
    const second = await api.call('GET', '/data/list?prefix=f%2Fb%2F&details=true&limit=1', { headers: { 'x-next': token } });
    assert.equal(second.json<{ objects: Array<{ key: string }> }>().objects[0]?.key, 'f/b/2');
    for (const other of ['/data/list?prefix=f%2Fb%2F', '/data/list?prefix=f%2Fb%2F&delimiter=%2F', '/data/list?prefix=f%2F&details=true']) {
      const refused = await api.call('GET', other, { headers: { 'x-next': token } });
      assert.equal(refused.status, 400, other);
      assert.equal(refused.json<{ code: string }>().code, 'InvalidPageToken');
    }
    assert.equal((await api.call('GET', '/data/list?prefix=f%2F&delimiter=')).status, 400);
    assert.equal((await api.call('GET', '/data/list?details=maybe')).status, 400);
  });
});
