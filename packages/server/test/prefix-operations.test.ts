// Guards the operations on many keys (docs/protocol.md, "Folders, batch operations, copy and
// move, metadata") on a real server, on whichever deployment the suite runs: delete by prefix at
// scale while other clients work, delete by list, exact usage of a prefix, copy and move without
// bytes (blobs shared, collected when the last row goes), and move atomicity under readers.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
/** Above the inline limit (16 KiB): stored as a blob. */
const blobValue = (seed: string) => Buffer.concat([Buffer.from(seed), randomBytes(40 * 1024)]);

async function putAll(api: ApiClient, type: string, entries: Array<[string, Buffer | string]>): Promise<void> {
  for (let i = 0; i < entries.length; i += 50) {
    const answers = await Promise.all(entries.slice(i, i + 50).map(([key, value]) => api.put(type, key, value)));
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
  }
}

/** Waits until the blob store holds `count` blobs (deletion runs in the background), after letting the grace pass. */
async function expectBlobs(ts: TestServer, count: number): Promise<void> {
  let blobs = -1;
  for (let i = 0; i < 200 && blobs !== count; i++) {
    blobs = await settledBlobs(ts);
    if (blobs !== count) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.equal(blobs, count, 'blobs held by the store');
}

/** The blobs held once every deletion due so far has run (the store's grace for reads in flight passed). */
async function settledBlobs(ts: TestServer): Promise<number> {
  ts.clock.advance(3_600_000);
  await ts.server.context.objects.sweep();
  return (await ts.files()).blobs.length;
}

describe('operations on many keys', () => {
  let ts: TestServer;
  let api: ApiClient;
  before(async () => {
    ts = await startTestServer();
    api = apiClient(ts.origin, await ts.token('alice', 30 * 24 * 3_600_000));
  });
  after(() => ts.close());

  test('delete by prefix of 100,000 keys while other clients read and write other prefixes', async () => {
    // 1,000 keys written, then copied server-side 100 times: 100,000 rows, ten blobs shared by 100 rows each.
    const seed: Array<[string, Buffer | string]> = Array.from({ length: 1000 }, (_, i) => [
      `seed/${String(i).padStart(4, '0')}`,
      i % 100 === 0 ? blobValue(`blob ${i}`) : `value ${i}`,
    ]);
    await putAll(api, 'data', seed);
    for (let copy = 0; copy < 100; copy++) {
      const answer = await api.copy({
        source: { type: 'data', prefix: 'seed/' },
        destination: { type: 'data', prefix: `big/${String(copy).padStart(3, '0')}/` },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json<{ objects: number }>().objects, 1000);
    }
    assert.deepEqual((await api.usage('data', 'big/')).json(), {
      type: 'data',
      prefix: 'big/',
      objects: 100_000,
      bytes: 100 * sumSizes(seed),
    });
    const keep: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [`keep/${i}`, `kept ${i}`]);
    await putAll(api, 'data', keep);

    let deleting = true;
    const errors: string[] = [];
    const written: string[] = [];
    const worker = async (id: number) => {
      for (let round = 0; deleting; round++) {
        const [key, value] = keep[(id * 31 + round) % keep.length] as [string, string];
        const read = await api.get('data', key);
        if (read.status !== 200 || read.text !== value) errors.push(`read ${key}: ${read.status} ${read.text}`);
        const fresh = `other/${id}/${round}`;
        const write = await api.put('data', fresh, fresh);
        if (write.status === 200) written.push(fresh);
        else errors.push(`write ${fresh}: ${write.status} ${write.text}`);
      }
    };
    const workers = Array.from({ length: 4 }, (_, id) => worker(id));
    const answer = await api.deletePrefix('data', 'big/');
    deleting = false;
    await Promise.all(workers);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json(), { deleted: 100_000, bytes: 100 * sumSizes(seed) });
    assert.deepEqual(errors, []);
    assert.ok(written.length > 0, 'the other clients got through while the delete ran');
    assert.deepEqual(await api.keys('data', 'big/'), []);
    assert.equal((await api.keys('data', 'keep/')).length, 200);
    assert.deepEqual((await api.keys('data', 'other/')).sort(), [...written].sort(), 'no unrelated key lost');
    assert.equal((await api.keys('data', 'seed/')).length, 1000);
    await expectBlobs(ts, 10);
    assert.deepEqual((await api.deletePrefix('data', 'seed/')).json(), { deleted: 1000, bytes: sumSizes(seed) });
    await expectBlobs(ts, 0);
  });

  test('an empty prefix needs all=true, and then empties one storage type only', async () => {
    await putAll(api, 'tmp', [['t1', 'a']]);
    await putAll(api, 'result', [['r1', 'b']]);
    const refused = await api.deletePrefix('result', '');
    assert.equal(refused.status, 400);
    assert.equal(refused.json<{ code: string }>().code, 'ConfirmationRequired');
    assert.equal((await api.head('result', 'r1')).status, 200);
    const all = await api.deletePrefix('result', '', '&all=true');
    assert.deepEqual(all.json(), { deleted: 1, bytes: 1 });
    assert.equal((await api.head('result', 'r1')).status, 404);
    assert.equal((await api.head('tmp', 't1')).status, 200);
  });

  test('delete_many: a result per key in request order; limits and bad bodies are 400s', async () => {
    await putAll(api, 'data', [
      ['dm/a', 'aa'],
      ['dm/b', blobValue('b')],
    ]);
    const answer = await api.call('POST', '/data/delete_many', { body: { keys: ['dm/a', 'dm/missing', 'dm/b', 'bad\u0001key', 'dm/a'] } });
    assert.equal(answer.status, 200, answer.text);
    const { deleted, bytes, results } = answer.json<{
      deleted: number;
      bytes: number;
      results: Array<{ key: string; deleted: boolean; code?: string }>;
    }>();
    assert.equal(deleted, 2);
    assert.equal(bytes, 2 + 40 * 1024 + 1);
    assert.deepEqual(
      results.map((r) => [r.key, r.deleted, r.code]),
      [
        ['dm/a', true, undefined],
        ['dm/missing', false, 'NoSuchKey'],
        ['dm/b', true, undefined],
        ['bad\u0001key', false, 'InvalidKey'],
        ['dm/a', false, 'NoSuchKey'],
      ],
    );
    const tooMany = await api.call('POST', '/data/delete_many', { body: { keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) } });
    assert.equal(tooMany.json<{ code: string }>().code, 'InvalidArgument');
    for (const body of [{}, { keys: 'dm/a' }, { keys: [1] }]) {
      const bad = await api.call('POST', '/data/delete_many', { body });
      assert.equal(bad.status, 400);
      assert.equal(bad.json<{ code: string }>().code, 'InvalidRequestBody');
    }
    const notJson = await api.call('POST', '/data/delete_many', { headers: { 'content-type': 'application/json' }, body: undefined });
    assert.equal(notJson.status, 400);
  });

  test('usage of a prefix is exact after writes, overwrites, deletes, copies, moves and expiry', async () => {
    const expected = new Map<string, number>();
    const put = async (key: string, value: Buffer | string) => {
      const stored = await api.put('data', key, value);
      assert.equal(stored.status, 200);
      expected.set(key, Buffer.byteLength(value));
    };
    await put('u/a', 'x'.repeat(10));
    await put('u/b', blobValue('b'));
    await put('u/c/d', 'y'.repeat(30));
    await put('u/a', 'z'.repeat(3));
    assert.equal((await api.call('DELETE', '/data/u%2Fc%2Fd')).status, 204);
    expected.delete('u/c/d');
    assert.equal((await api.copy({ source: { key: 'u/b' }, destination: { key: 'u/b2' } })).status, 200);
    expected.set('u/b2', expected.get('u/b') as number);
    assert.equal((await api.move({ source: { key: 'u/a' }, destination: { key: 'elsewhere' } })).status, 200);
    expected.delete('u/a');
    assert.equal((await api.call('PUT', '/data/set/u%2Fshort?expires_in=60', {})).status, 200);
    const usage = () => api.usage('data', 'u/').then((answer) => answer.json<{ objects: number; bytes: number }>());
    const total = [...expected.values()].reduce((sum, size) => sum + size, 0);
    assert.deepEqual(await usage(), { type: 'data', prefix: 'u/', objects: expected.size + 1, bytes: total });
    ts.clock.advance(61_000);
    assert.deepEqual(
      await usage(),
      { type: 'data', prefix: 'u/', objects: expected.size, bytes: total },
      'an expired object is gone at once',
    );
    assert.equal((await api.usage('No_Pe', '')).status, 400);
    assert.equal((await api.usage('nope', '')).status, 404);
  });

  test('copy then delete the source: the copy keeps its bytes; the blob goes with the last row', async () => {
    const value = blobValue('shared');
    await putAll(api, 'data', [['cp/src', value]]);
    const before = await settledBlobs(ts);
    const copied = await api.copy({ source: { type: 'data', key: 'cp/src' }, destination: { type: 'result', key: 'cp/dst' } });
    assert.equal(copied.status, 200, copied.text);
    assert.deepEqual(copied.json(), {
      type: 'result',
      key: 'cp/dst',
      size: value.length,
      etag: `"${sha256(value)}"`,
      sha256: sha256(value),
    });
    assert.equal((await ts.files()).blobs.length, before, 'no bytes were copied');
    assert.equal((await api.call('DELETE', '/data/cp%2Fsrc')).status, 204);
    await expectBlobs(ts, before);
    const read = await api.get('result', 'cp/dst');
    assert.equal(read.status, 200);
    assert.equal(sha256(read.body), sha256(value));
    assert.equal((await api.call('DELETE', '/result/cp%2Fdst')).status, 204);
    await expectBlobs(ts, before - 1);
  });

  test('copy and move: 404, 409 unless overwrite, If-Match on the source, and bad requests', async () => {
    await putAll(api, 'data', [
      ['mv/a', 'first'],
      ['mv/b', 'second'],
    ]);
    const code = (answer: { json<T>(): T }) => answer.json<{ code: string }>().code;
    assert.equal(code(await api.move({ source: { key: 'mv/none' }, destination: { key: 'mv/x' } })), 'NoSuchKey');
    const exists = await api.move({ source: { key: 'mv/a' }, destination: { key: 'mv/b' } });
    assert.equal(exists.status, 409);
    assert.equal(code(exists), 'DestinationExists');
    const stale = await api.move({ source: { key: 'mv/a' }, destination: { key: 'mv/c' } }, { 'if-match': '"0000"' });
    assert.equal(stale.status, 412);
    assert.equal((await api.get('data', 'mv/a')).text, 'first', 'a refused move changes nothing');
    const etag = `"${sha256(Buffer.from('first'))}"`;
    const moved = await api.move({ source: { key: 'mv/a' }, destination: { key: 'mv/b' }, overwrite: true }, { 'if-match': etag });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((await api.get('data', 'mv/b')).text, 'first');
    assert.equal((await api.head('data', 'mv/a')).status, 404);
    for (const body of [
      {},
      { source: { key: 'mv/b' } },
      { source: { key: 'mv/b' }, destination: { prefix: 'x/' } },
      { source: { key: 'mv/b' }, destination: { key: 'mv/b' } },
      { source: { prefix: 'p/' }, destination: { prefix: 'p/q/' } },
      { source: { key: 'mv/b', prefix: 'mv/' }, destination: { key: 'z' } },
      { source: { type: 'No_Pe', key: 'mv/b' }, destination: { key: 'z' } },
      { source: { key: '' }, destination: { key: 'z' } },
    ]) {
      const answer = await api.copy(body);
      assert.equal(answer.status, 400, `${JSON.stringify(body)} → ${answer.text}`);
    }
  });

  test('a prefix copy into tmp expires; a prefix move skips existing destinations unless overwrite', async () => {
    await putAll(api, 'data', [
      ['pm/1', 'one'],
      ['pm/2', 'two'],
      ['pm/sub/3', 'three'],
    ]);
    const copied = await api.copy({ source: { type: 'data', prefix: 'pm/' }, destination: { type: 'tmp', prefix: 'pm-copy/' } });
    assert.deepEqual(copied.json(), { objects: 3, bytes: 11, skipped: 0, skippedKeys: [] });
    assert.ok((await api.get('tmp', 'pm-copy/sub/3')).headers['x-stowage-expires-at'], 'a copy into tmp expires');
    await putAll(api, 'data', [['moved/2', 'in the way']]);
    const moved = await api.move({ source: { prefix: 'pm/' }, destination: { prefix: 'moved/' } });
    assert.deepEqual(moved.json(), { objects: 2, bytes: 8, skipped: 1, skippedKeys: ['pm/2'] });
    assert.deepEqual(await api.keys('data', 'pm/'), ['pm/2']);
    assert.equal((await api.get('data', 'moved/2')).text, 'in the way');
    const forced = await api.move({ source: { prefix: 'pm/' }, destination: { prefix: 'moved/' }, overwrite: true });
    assert.deepEqual(forced.json(), { objects: 1, bytes: 3, skipped: 0, skippedKeys: [] });
    assert.deepEqual(await api.keys('data', 'moved/'), ['moved/1', 'moved/2', 'moved/sub/3']);
    assert.equal((await api.get('data', 'moved/2')).text, 'two');
  });

  test('a move is atomic for readers: once the old key is gone the new one is there', async () => {
    for (let round = 0; round < 20; round++) {
      const [from, to] = [`atomic/${round}/old`, `atomic/${round}/new`];
      const value = round % 2 ? blobValue(`r${round}`) : `value ${round}`;
      await putAll(api, 'data', [[from, value]]);
      let moving = true;
      const violations: string[] = [];
      let sawOld = 0;
      let sawNew = 0;
      const reader = async () => {
        while (moving) {
          const old = await api.get('data', from);
          if (old.status === 200) {
            sawOld++;
            continue;
          }
          const next = await api.get('data', to);
          if (next.status !== 200) violations.push(`neither ${from} (${old.status}) nor ${to} (${next.status})`);
          else sawNew++;
        }
      };
      const readers = Array.from({ length: 3 }, reader);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const moved = await api.move({ source: { key: from }, destination: { key: to } });
      await new Promise((resolve) => setTimeout(resolve, 5));
      moving = false;
      await Promise.all(readers);
      assert.equal(moved.status, 200, moved.text);
      assert.deepEqual(violations, []);
      assert.ok(sawOld + sawNew > 0);
    }
  });
});

function sumSizes(entries: Array<[string, Buffer | string]>): number {
  return entries.reduce((sum, [, value]) => sum + Buffer.byteLength(value), 0);
}
