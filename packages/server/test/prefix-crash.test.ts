// Guards crash safety of operations on many keys: a server killed (SIGKILL, by the
// batch.after-step failpoint) in the middle of a prefix move or a prefix delete leaves each key
// done or untouched, never lost or half moved; the blob store holds exactly the blobs the rows
// name once collection ran; and calling the operation again finishes it. On both deployments.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fsck, issueAdminToken } from '../src/admin.js';
import { defineConfig, type ServerConfig } from '../src/config.js';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { deployment, namespaceOf } from './helpers/deployment.js';
import { type ServerProcess, startServerProcess } from './helpers/server-process.js';
import { storedFiles } from './helpers/stored-files.js';

const KEYS = 1200;
/** Every hundredth value is large enough to be a blob of its own. */
const makeValue = (i: number) =>
  i % 100 === 0 ? Buffer.concat([Buffer.from(`blob ${i}:`), randomBytes(20_000)]) : Buffer.from(`value ${i}`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const keyOf = (prefix: string, i: number) => `${prefix}${String(i).padStart(5, '0')}`;
/** Deleted blobs go at once, so the blob count can be checked against the rows right after. */
const NO_GRACE = { STOWAGE_REPLACED_BLOB_GRACE: '0s' };

describe('a crash in the middle of a prefix operation', () => {
  let dataDir: string;
  let config: ServerConfig;
  let token: string;
  const values = new Map<number, string>();
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-prefix-crash-'));
    config = defineConfig({ dataDir, ...(await namespaceOf(dataDir)).fields });
    token = await issueAdminToken(config, 'alice', 3_600_000);
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  async function withServer<T>(env: Record<string, string>, work: (api: ApiClient, server: ServerProcess) => Promise<T>): Promise<T> {
    const server = await startServerProcess(dataDir, { ...NO_GRACE, ...env });
    try {
      return await work(apiClient(server.origin, token), server);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }

  /** Where each key is now: under `from`, under `to`, both or neither; and whether its bytes are right. */
  async function locate(api: ApiClient, from: string, to: string) {
    const [fromKeys, toKeys] = [new Set(await api.keys('data', from)), new Set(await api.keys('data', to))];
    const wrong: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const [a, b] = [fromKeys.has(keyOf(from, i)), toKeys.has(keyOf(to, i))];
      if (a === b) wrong.push(`${i}: ${a ? 'under both prefixes' : 'lost'}`);
    }
    for (const i of [0, 100, 599, 1100, 1199]) {
      const key = fromKeys.has(keyOf(from, i)) ? keyOf(from, i) : keyOf(to, i);
      const read = await api.get('data', key);
      if (sha256(read.body) !== values.get(i)) wrong.push(`${key}: ${read.status}, not its bytes`);
    }
    return { under: { from: fromKeys.size, to: toKeys.size }, wrong };
  }

  /** Blobs in the store once collection ran: exactly those the rows still name (12 values, however many copies). */
  async function assertBlobsClean(expected: number): Promise<void> {
    let blobs = -1;
    for (let i = 0; i < 100 && blobs !== expected; i++) {
      blobs = (await storedFiles(config)).blobs.length;
      if (blobs !== expected) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(blobs, expected, 'blobs left in the store');
    if (deployment === 'embedded') assert.deepEqual((await fsck({ dataDir })).findings, []);
  }

  test('a move killed after its second batch: each key moved or not, none lost; a second call finishes it', async () => {
    await withServer({}, async (api) => {
      for (let i = 0; i < KEYS; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => i + j).map(async (n) => {
          const value = makeValue(n);
          values.set(n, sha256(value));
          assert.equal((await api.put('data', keyOf('src/', n), value)).status, 200);
        });
        await Promise.all(batch);
      }
    });
    await withServer({ STOWAGE_FAILPOINTS: 'batch.after-step@2' }, async (api, server) => {
      await assert.rejects(api.move({ source: { prefix: 'src/' }, destination: { prefix: 'dst/' } }), 'the server died mid-move');
      assert.equal(await server.exited, 'SIGKILL');
    });
    await withServer({}, async (api) => {
      const found = await locate(api, 'src/', 'dst/');
      assert.deepEqual(found.wrong, []);
      assert.deepEqual(found.under, { from: KEYS - 1000, to: 1000 }, 'two batches of 500 moved, in key order');
      await assertBlobsClean(12);
      const finished = await api.move({ source: { prefix: 'src/' }, destination: { prefix: 'dst/' } });
      assert.deepEqual(finished.json(), {
        objects: KEYS - 1000,
        bytes: finished.json<{ bytes: number }>().bytes,
        skipped: 0,
        skippedKeys: [],
      });
      assert.deepEqual((await locate(api, 'src/', 'dst/')).under, { from: 0, to: KEYS });
    });
  });

  test('a copy killed after its first batch: the source intact, each key copied or not; a second call copies the rest', async () => {
    await withServer({ STOWAGE_FAILPOINTS: 'batch.after-step@1' }, async (api, server) => {
      await assert.rejects(api.copy({ source: { prefix: 'dst/' }, destination: { prefix: 'cp/' } }), 'the server died mid-copy');
      assert.equal(await server.exited, 'SIGKILL');
    });
    await withServer({}, async (api) => {
      assert.equal((await api.keys('data', 'dst/')).length, KEYS, 'the source is intact');
      const copied = await api.keys('data', 'cp/');
      assert.deepEqual(
        copied,
        Array.from({ length: 500 }, (_, i) => keyOf('cp/', i)),
        'one batch of 500, in key order',
      );
      for (const i of [0, 499]) assert.equal(sha256((await api.get('data', keyOf('cp/', i))).body), values.get(i));
      await assertBlobsClean(12);
      const rest = await api.copy({ source: { prefix: 'dst/' }, destination: { prefix: 'cp/' } });
      assert.deepEqual([rest.json<{ objects: number }>().objects, rest.json<{ skipped: number }>().skipped], [KEYS - 500, 500]);
      assert.equal((await api.deletePrefix('data', 'cp/')).json<{ deleted: number }>().deleted, KEYS);
      await assertBlobsClean(12);
    });
  });

  test('a prefix delete killed after its first batch: each key deleted or intact; a second call finishes it', async () => {
    await withServer({}, async (api) => {
      // 1,200 more rows named del/a/… to del/d/…: copies, sharing the 12 blobs.
      for (const copy of ['a', 'b', 'c', 'd']) {
        const answer = await api.copy({ source: { prefix: 'dst/' }, destination: { prefix: `del/${copy}/` } });
        assert.equal(answer.json<{ objects: number }>().objects, KEYS);
      }
    });
    await withServer({ STOWAGE_FAILPOINTS: 'batch.after-step@1' }, async (api, server) => {
      await assert.rejects(api.deletePrefix('data', 'del/'), 'the server died mid-delete');
      assert.equal(await server.exited, 'SIGKILL');
    });
    await withServer({}, async (api) => {
      const left = await api.keys('data', 'del/');
      assert.equal(left.length, 4 * KEYS - 1000, 'one batch of 1000 deleted, in key order');
      assert.equal(left[0], keyOf('del/a/', 1000), 'the first 1000 keys are the ones gone');
      for (const key of [left[0], left.at(-1)] as string[]) {
        const i = Number(key.slice(-5));
        assert.equal(sha256((await api.get('data', key)).body), values.get(i), `${key} intact`);
      }
      await assertBlobsClean(12);
      assert.deepEqual((await api.deletePrefix('data', 'del/')).json<{ deleted: number }>().deleted, 4 * KEYS - 1000);
      assert.deepEqual((await api.deletePrefix('data', 'dst/')).json<{ deleted: number }>().deleted, KEYS);
      await assertBlobsClean(0);
    });
  });
});
