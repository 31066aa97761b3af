// Guards wire compatibility with the Python Storage client: the exact requests it sends
// (JSON content type with empty bodies, X-Request-Group, raw `+` in paths) must work.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiClient } from './helpers/api-client.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('Python client requests', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token('alice'));
  });
  after(() => ts.close());

  test('set with application/octet-stream, then get, head, exists and delete with JSON content type and empty body', async () => {
    const put = await py.put('/data/set/report.csv', 'a,b\n1,2\n');
    assert.equal(put.status, 200);
    assert.deepEqual(Object.keys(put.json<object>()).sort(), ['etag', 'key', 'sha256', 'size']);

    const get = await py.get('/data/get/report.csv');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'a,b\n1,2\n');
    assert.equal(get.headers['content-type'], 'application/octet-stream');
    assert.equal(get.headers['content-length'], '8');
    assert.match(String(get.headers.etag), /^"[0-9a-f]{64}"$/);
    assert.ok(!Number.isNaN(Date.parse(String(get.headers['last-modified']))));

    const head = await py.head('/data/get/report.csv');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '8');
    assert.equal(head.body.length, 0);

    const del = await py.delete('/data/report.csv');
    assert.equal(del.status, 204);
    assert.equal((await py.head('/data/get/report.csv')).status, 404);
  });

  test('an upload PUT with no Content-Type is accepted and stored as application/octet-stream', async () => {
    const put = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/no-type', {
      headers: { authorization: `Bearer ${await ts.token('alice')}` },
      body: 'x',
    });
    assert.equal(put.status, 200);
    assert.equal((await py.get('/data/get/no-type')).headers['content-type'], 'application/octet-stream');
  });

  test('a stored content type is served back', async () => {
    await py.put('/data/set/page.html', '<p>hi</p>', { 'content-type': 'text/html; charset=utf-8' });
    assert.equal((await py.get('/data/get/page.html')).headers['content-type'], 'text/html; charset=utf-8');
  });

  test('X-Request-Group becomes the request id, echoed in the response and in error bodies', async () => {
    const missing = await py.get('/data/get/missing');
    assert.equal(missing.headers['x-request-id'], 'py-group-1');
    assert.equal(missing.json<{ requestId: string }>().requestId, 'py-group-1');
  });

  test('a 404 has a JSON body with the NoSuchKey code, on GET and DELETE', async () => {
    for (const response of [await py.get('/data/get/nope'), await py.delete('/data/nope')]) {
      assert.equal(response.status, 404);
      const body = response.json<{ code: string; message: string }>();
      assert.equal(body.code, 'NoSuchKey');
      assert.ok(body.message.length > 0);
    }
  });

  test('a raw + in a path is a plus, not a space', async () => {
    await py.put('/data/set/a+b', 'plus');
    await py.put('/data/set/a%20b', 'space');
    assert.equal((await py.get('/data/get/a+b')).text, 'plus');
    assert.equal((await py.get('/data/get/a%2Bb')).text, 'plus');
    assert.equal((await py.get('/data/get/a%20b')).text, 'space');
    const list = await py.get('/data/list?prefix=a');
    assert.deepEqual(list.json(), ['a b', 'a+b']);
  });

  test('list with a prefix in the query (requests encodes + as %2B and space as +)', async () => {
    await py.put('/data/set/q+1', 'x');
    await py.put('/data/set/q%202', 'y');
    assert.deepEqual((await py.get('/data/list?prefix=q%2B')).json(), ['q+1']);
    assert.deepEqual((await py.get('/data/list?prefix=q+')).json(), ['q 2']);
  });

  test('list returns a JSON array with X-NEXT only when more keys remain', async () => {
    for (let i = 0; i < 5; i++) await py.put(`/result/set/page-${i}`, String(i));
    const first = await py.get('/result/list?limit=3');
    assert.equal(first.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(first.json(), ['page-0', 'page-1', 'page-2']);
    const next = first.headers['x-next'];
    assert.equal(typeof next, 'string');
    const second = await py.get('/result/list?limit=3', { 'x-next': String(next) });
    assert.deepEqual(second.json(), ['page-3', 'page-4']);
    assert.equal(second.headers['x-next'], undefined);
  });

  test('get_signed_url and new_resumable_url answer one absolute URL as text/plain without a newline', async () => {
    await py.put('/tmp/set/shared', 'signed bytes');
    for (const route of ['get_signed_url', 'new_resumable_url']) {
      const response = await py.get(`/tmp/${route}/shared`);
      assert.equal(response.status, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain/);
      assert.ok(!response.text.endsWith('\n'));
      assert.match(response.text, /^http:\/\/127\.0\.0\.1:\d+\/storage\/v1\/[\x21-\x7e]+$/);
    }
  });

  test('statuses the Python client maps: 400 bad type, 401 no token, 404 missing', async () => {
    assert.equal((await py.get('/Bogus/get/x')).status, 400);
    assert.equal((await py.get('/bogus/get/x')).status, 404);
    assert.equal((await rawRequest(ts.origin, 'GET', '/storage/v1/data/get/x')).status, 401);
    assert.equal((await py.get('/data/get/absent')).status, 404);
  });
  test('storage_type="<bucket>": a teammate reads a shared folder with the requests the Python client sends', async () => {
    const bucket = `team-results-${Date.now().toString(36)}`;
    const alice = apiClient(ts.origin, await ts.token('alice'));
    const bob = pythonLikeClient(ts.origin, await ts.token('bob'));
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
    assert.equal((await py.put(`/${bucket}/set/results/run+1.csv`, 'a,b\n')).status, 200);
    assert.equal((await py.put(`/${bucket}/set/private/notes.txt`, 'mine')).status, 200);
    assert.equal((await bob.get(`/${bucket}/get/results/run+1.csv`)).status, 403);
    const share = { grantee: { user: 'bob' }, permission: 'READ', prefix: 'results/' };
    assert.equal((await alice.call('POST', `/buckets/${bucket}/share`, { body: share })).status, 200);
    assert.equal((await bob.get(`/${bucket}/get/results/run+1.csv`)).text, 'a,b\n');
    assert.equal((await bob.head(`/${bucket}/get/results/run+1.csv`)).status, 200);
    assert.deepEqual((await bob.get(`/${bucket}/list?prefix=results%2F`)).json(), ['results/run+1.csv']);
    assert.equal((await bob.get(`/${bucket}/get/private/notes.txt`)).status, 403);
    assert.equal((await bob.put(`/${bucket}/set/results/bob.csv`, 'x')).status, 403);
    assert.equal((await bob.delete(`/${bucket}/results/run+1.csv`)).status, 403);
    const signed = await bob.get(`/${bucket}/get_signed_url/results/run+1.csv`);
    assert.equal((await fetch(signed.text)).status, 200);
  });
});
