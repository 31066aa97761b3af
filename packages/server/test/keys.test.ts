// Guards key handling: every legal key round-trips when percent-encoded, keys are opaque (never
// file paths), listing orders by UTF-8 bytes, and illegal keys get 400 InvalidKey.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeKey, MAX_KEY_BYTES } from 'stowage-client/protocol';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const AWKWARD_KEYS = [
  'plain',
  'dir/sub/file.txt',
  'with space',
  'a+b',
  'what?',
  'hash#tag',
  '100%',
  'semi;colon',
  '..',
  'a/../b',
  './x',
  '/leading',
  'trailing/',
  '//double//',
  'ünïcødé/日本語/🚀',
  '%2F-literal',
  'quote\'"<>&=',
  'x'.repeat(MAX_KEY_BYTES),
  'é'.repeat(MAX_KEY_BYTES / 2),
];

describe('keys', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer();
    py = pythonLikeClient(ts.origin, await ts.token());
  });
  after(() => ts.close());

  test('awkward keys round-trip through set, get, head, list and delete', async () => {
    for (const key of AWKWARD_KEYS) {
      const path = encodeKey(key);
      const put = await py.put(`/data/set/${path}`, `value of ${key}`);
      assert.equal(put.status, 200, `set ${key}: ${put.text}`);
      assert.equal(put.json<{ key: string }>().key, key);
      const get = await py.get(`/data/get/${path}`);
      assert.equal(get.text, `value of ${key}`, `get ${key}`);
      assert.equal((await py.head(`/data/get/${path}`)).status, 200);
    }
    const listed: string[] = (await py.get('/data/list')).json();
    assert.deepEqual([...listed].sort(), [...AWKWARD_KEYS].sort());
    for (const key of AWKWARD_KEYS) assert.equal((await py.delete(`/data/${encodeKey(key)}`)).status, 204, `delete ${key}`);
    assert.deepEqual((await py.get('/data/list')).json(), []);
  });

  test('dot segments are ordinary keys: a/../b and b are different objects', async () => {
    await py.put(`/data/set/${encodeKey('a/../b')}`, 'dotted');
    await py.put('/data/set/b', 'plain');
    assert.equal((await py.get(`/data/get/${encodeKey('a/../b')}`)).text, 'dotted');
    assert.equal((await py.get('/data/get/b')).text, 'plain');
  });

  test('list orders keys by UTF-8 bytes, not by UTF-16 code units', async () => {
    // U+FF5E sorts before U+1F600 in UTF-8 bytes but after it in UTF-16 code units.
    const keys = ['order/\u{1F600}', 'order/\uFF5E', 'order/Z', 'order/a', 'order/é', 'order/~'];
    for (const key of keys) await py.put(`/data/set/${encodeKey(key)}`, 'x');
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual((await py.get(`/data/list?prefix=${encodeURIComponent('order/')}`)).json(), expected);
    assert.notDeepEqual(expected, [...keys].sort());
  });

  test('illegal keys are refused with 400 InvalidKey and nothing is stored', async () => {
    const illegal = [
      '',
      'x'.repeat(MAX_KEY_BYTES + 1),
      `${'é'.repeat(MAX_KEY_BYTES / 2)}x`,
      'tab\there',
      'nul\u0000',
      'del\u007f',
      'c1\u0085',
    ];
    for (const key of illegal) {
      const put = await py.put(`/data/set/${encodeKey(key)}`, 'x');
      assert.equal(put.status, 400, `key ${JSON.stringify(key)}`);
      assert.equal(put.json<{ code: string }>().code, 'InvalidKey');
      assert.equal((await py.get(`/data/get/${encodeKey(key)}`)).status, 400);
    }
    const badEscape = await py.get('/data/get/%E0%A4%A');
    assert.equal(badEscape.status, 400);
    assert.equal(badEscape.json<{ code: string }>().code, 'InvalidKey');
  });

  test('what can be neither a storage type nor a bucket name is 400 InvalidStorageType on every route; a bucket that does not exist is 404 NoSuchBucket', async () => {
    for (const [type, status, code] of [
      ['Blob', 400, 'InvalidStorageType'],
      ['b_l', 400, 'InvalidStorageType'],
      ['blob', 404, 'NoSuchBucket'],
    ] as const) {
      for (const response of [
        await py.get(`/${type}/get/x`),
        await py.put(`/${type}/set/x`, 'x'),
        await py.delete(`/${type}/x`),
        await py.get(`/${type}/list`),
        await py.get(`/${type}/get_signed_url/x`),
        await py.get(`/${type}/new_resumable_url/x`),
      ]) {
        assert.equal(response.status, status, type);
        assert.equal(response.json<{ code: string }>().code, code, type);
      }
    }
  });

  test('storage types are separate namespaces', async () => {
    await py.put('/data/set/ns', 'data');
    await py.put('/result/set/ns', 'result');
    await py.put('/tmp/set/ns', 'tmp');
    assert.equal((await py.get('/data/get/ns')).text, 'data');
    assert.equal((await py.get('/result/get/ns')).text, 'result');
    assert.equal((await py.get('/tmp/get/ns')).text, 'tmp');
    await py.delete('/result/ns');
    assert.equal((await py.get('/data/get/ns')).text, 'data');
    assert.equal((await py.get('/result/get/ns')).status, 404);
  });
});
