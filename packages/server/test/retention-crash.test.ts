// Guards crash safety of a restore of a prefix: a server killed (SIGKILL, by the batch.after-step
// failpoint) in the middle of one leaves each key restored or as it was, and calling it again
// finishes the job (the keys already done are found unchanged). On both deployments.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RestorePrefixResult } from 'stowage-client/protocol';
import { fsck, issueAdminToken } from '../src/admin.js';
import { defineConfig } from '../src/config.js';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { deployment, namespaceOf } from './helpers/deployment.js';
import { type ServerProcess, startServerProcess } from './helpers/server-process.js';

const KEYS = 1500;
const NEW_KEYS = 10;
const keyOf = (i: number) => `r/${String(i).padStart(5, '0')}`;
/** Every hundredth value is large enough to be a blob of its own. */
const makeValue = (i: number) =>
  i % 100 === 0 ? Buffer.concat([Buffer.from(`blob ${i}:`), randomBytes(20_000)]) : Buffer.from(`value ${i}`);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const RETENTION = { STOWAGE_RETENTION: '7d', STOWAGE_REPLACED_BLOB_GRACE: '0s' };

describe('a crash in the middle of a restore of a prefix', () => {
  let dataDir: string;
  let token: string;
  const values = new Map<number, string>();
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-restore-crash-'));
    token = await issueAdminToken(defineConfig({ dataDir, ...(await namespaceOf(dataDir)).fields }), 'alice', 3_600_000);
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  async function withServer<T>(env: Record<string, string>, work: (api: ApiClient, server: ServerProcess) => Promise<T>): Promise<T> {
    const server = await startServerProcess(dataDir, { ...RETENTION, ...env });
    try {
      return await work(apiClient(server.origin, token), server);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }

  test('killed after its first page: each key restored or not; a second call finishes it', async () => {
    const at = await withServer({}, async (api) => {
      for (let i = 0; i < KEYS; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, j) => i + j).map(async (n) => {
            const value = makeValue(n);
            values.set(n, sha256(value));
            assert.equal((await api.put('data', keyOf(n), value)).status, 200);
          }),
        );
      }
      await sleep(20);
      const instant = new Date().toISOString();
      await sleep(20);
      assert.equal((await api.deletePrefix('data', 'r/')).json<{ deleted: number }>().deleted, KEYS);
      for (let i = 0; i < NEW_KEYS; i++) await api.put('data', `r/new-${i}`, 'made after');
      return instant;
    });
    await withServer({ STOWAGE_FAILPOINTS: 'batch.after-step@1' }, async (api, server) => {
      await assert.rejects(api.call('POST', '/data/restore', { body: { prefix: 'r/', at } }), 'the server died mid-restore');
      assert.equal(await server.exited, 'SIGKILL');
    });
    const done = await withServer({}, async (api) => {
      const back = await api.keys('data', 'r/');
      const restored = back.filter((key) => !key.startsWith('r/new-'));
      // The first page holds 1000 versions (a value and a delete marker per key): 500 keys, the last of which waits for the next page.
      assert.deepEqual(
        restored,
        Array.from({ length: 499 }, (_, i) => keyOf(i)),
        'the keys of the first page, in key order',
      );
      for (const i of [0, 100, 498]) assert.equal(sha256((await api.get('data', keyOf(i))).body), values.get(i), `${keyOf(i)} intact`);
      const finished = await api.call('POST', '/data/restore', { body: { prefix: 'r/', at } });
      assert.equal(finished.status, 200, finished.text);
      const result = finished.json<RestorePrefixResult>();
      assert.deepEqual([result.restored, result.deleted, result.unchanged, result.skipped], [KEYS - 499, NEW_KEYS, 499, 0]);
      const all = await api.keys('data', 'r/');
      assert.deepEqual(
        all,
        Array.from({ length: KEYS }, (_, i) => keyOf(i)),
      );
      for (const i of [0, 499, 500, 1100, 1499]) assert.equal(sha256((await api.get('data', keyOf(i))).body), values.get(i));
      return all.length;
    });
    assert.equal(done, KEYS);
    if (deployment === 'embedded') assert.deepEqual((await fsck({ dataDir })).findings, []);
  });
});
