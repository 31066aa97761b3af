// Guards the GCS resumable protocol on upload URLs: 308 + Range until the last byte, status
// queries, overlap and gap refused, cancel, sessions that survive a restart and expire with
// their URL, and a value that appears atomically only when complete.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('resumable uploads', () => {
  let dataDir: string;
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-resumable-'));
    ts = await startTestServer({}, { dataDir });
    py = pythonLikeClient(ts.origin, await ts.token('alice', 1000 * 3_600_000));
  });
  after(async () => {
    await ts.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const newUrl = async (key: string, query = '') =>
    new URL((await py.get(`/data/new_resumable_url/${encodeURIComponent(key)}${query}`)).text);
  const put = (origin: string, url: URL, body: Buffer | string, headers: Record<string, string> = {}) =>
    rawRequest(origin, 'PUT', url.pathname + url.search, { headers, body });
  const chunk = (url: URL, data: Buffer, start: number, total: number | '*') =>
    put(ts.origin, url, data, { 'content-range': `bytes ${start}-${start + data.length - 1}/${total}` });
  const status = (url: URL, total: number | '*' = '*') => put(ts.origin, url, '', { 'content-range': `bytes */${total}` });
  const parts = async () => (await ts.files()).parts;

  test('chunks get 308 with Range until the last one; the value appears only then, whole', async () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 256));
    const url = await newUrl('chunked.bin');
    const first = await chunk(url, data.subarray(0, 100_000), 0, '*');
    assert.equal(first.status, 308);
    assert.equal(first.headers.range, 'bytes=0-99999');
    assert.equal((await py.get('/data/get/chunked.bin')).status, 404, 'invisible before completion');
    const second = await chunk(url, data.subarray(100_000, 200_000), 100_000, data.length);
    assert.equal(second.status, 308);
    assert.equal(second.headers.range, 'bytes=0-199999');
    const query = await status(url, data.length);
    assert.equal(query.status, 308);
    assert.equal(query.headers.range, 'bytes=0-199999');
    const last = await chunk(url, data.subarray(200_000), 200_000, data.length);
    assert.equal(last.status, 200);
    const body = last.json<{ size: number; sha256: string }>();
    assert.equal(body.size, data.length);
    assert.equal(body.sha256, createHash('sha256').update(data).digest('hex'));
    assert.deepEqual((await py.get('/data/get/chunked.bin')).body, data);
    assert.equal((await status(url)).status, 200, 'a status query after completion reports it');
    assert.deepEqual(await parts(), []);
  });

  test('a status query on a fresh session is a 308 without Range', async () => {
    const response = await status(await newUrl('fresh'));
    assert.equal(response.status, 308);
    assert.equal(response.headers.range, undefined);
  });

  test('overlapping and gapped chunks are refused with 409 and the current Range', async () => {
    const url = await newUrl('strict');
    await chunk(url, Buffer.alloc(1000, 1), 0, 3000);
    for (const start of [500, 1500]) {
      const response = await chunk(url, Buffer.alloc(1000, 2), start, 3000);
      assert.equal(response.status, 409, `start ${start}`);
      assert.equal(response.json<{ code: string }>().code, 'UploadOffsetMismatch');
      assert.equal(response.headers.range, 'bytes=0-999');
    }
    assert.equal((await chunk(url, Buffer.alloc(2000, 3), 1000, 3000)).status, 200);
    const stored = (await py.get('/data/get/strict')).body;
    assert.deepEqual(stored, Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(2000, 3)]));
  });

  test('bad Content-Range headers are 400, never a crash', async () => {
    const url = await newUrl('bad-ranges');
    for (const header of ['bytes 5-2/10', 'bytes 0-9/5', 'bits 0-1/2', 'bytes 0-/10', 'bytes x-y/z', 'bytes 0-1']) {
      const response = await put(ts.origin, url, 'ab', { 'content-range': header });
      assert.equal(response.status, 400, header);
      assert.equal(response.json<{ code: string }>().code, 'InvalidContentRange');
    }
    const lengthMismatch = await put(ts.origin, url, 'abc', { 'content-range': 'bytes 0-1/10' });
    assert.equal(lengthMismatch.status, 400);
    await chunk(url, Buffer.from('ab'), 0, 10);
    const totalChanged = await chunk(url, Buffer.from('cd'), 2, 12);
    assert.equal(totalChanged.status, 400);
  });

  test('DELETE cancels: the bytes are gone and further chunks get 404 NoSuchUpload', async () => {
    const url = await newUrl('cancelled');
    await chunk(url, Buffer.alloc(5000), 0, '*');
    assert.equal((await parts()).length > 0, true);
    const cancel = await rawRequest(ts.origin, 'DELETE', url.pathname + url.search);
    assert.equal(cancel.status, 204);
    assert.ok(!(await parts()).some((name) => name.startsWith(url.searchParams.get('upload_id') ?? '-')));
    const after = await chunk(url, Buffer.alloc(10), 5000, '*');
    assert.equal(after.status, 404, 'a cancelled upload URL stores nothing more');
    assert.equal(after.json<{ code: string }>().code, 'NoSuchUpload');
    assert.equal((await py.get('/data/get/cancelled')).status, 404);
  });

  test('an empty upload completes with bytes */0', async () => {
    const url = await newUrl('empty');
    const response = await status(url, 0);
    assert.equal(response.status, 200);
    assert.equal((await py.get('/data/get/empty')).body.length, 0);
  });

  test('sessions expire with their URL and leave no part behind', async () => {
    const url = await newUrl('expiring', '?expires_in=60');
    await chunk(url, Buffer.alloc(2000), 0, '*');
    ts.clock.advance(61_000);
    await ts.server.context.objects.sweep();
    assert.ok(!(await parts()).some((name) => name.startsWith(url.searchParams.get('upload_id') ?? '-')));
    assert.equal((await chunk(url, Buffer.alloc(10), 2000, '*')).status, 403);
  });

  test('a session survives a server restart, and its value is right', async () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256));
    const url = await newUrl('restart.bin', '?expires_in=86400');
    await chunk(url, data.subarray(0, 20_000), 0, data.length);
    await ts.close();
    ts = await startTestServer({}, { dataDir });
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
    const moved = (u: URL) => new URL(u.pathname + u.search, ts.origin);
    const query = await put(ts.origin, moved(url), '', { 'content-range': `bytes */${data.length}` });
    assert.equal(query.status, 308);
    assert.equal(query.headers.range, 'bytes=0-19999');
    const last = await put(ts.origin, moved(url), data.subarray(20_000), {
      'content-range': `bytes 20000-${data.length - 1}/${data.length}`,
    });
    assert.equal(last.status, 200);
    assert.equal(last.json<{ sha256: string }>().sha256, createHash('sha256').update(data).digest('hex'));
    assert.deepEqual((await py.get('/data/get/restart.bin')).body, data);
  });
});
