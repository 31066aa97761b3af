// Guards tmp expiry: a tmp object is invisible the moment it expires (get, head, list, delete,
// signed URL) and the sweeper later removes its row and blob; data and result never expire.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const HOUR = 3_600_000;

async function countBlobFiles(dataDir: string): Promise<number> {
  const shards = await readdir(path.join(dataDir, 'blobs'));
  let count = 0;
  for (const shard of shards) count += (await readdir(path.join(dataDir, 'blobs', shard))).length;
  return count;
}

describe('tmp expiry', () => {
  let ts: TestServer;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer({ tmpTtlMs: 24 * HOUR });
    py = pythonLikeClient(ts.origin, await ts.token('alice', 1000 * HOUR));
  });
  after(() => ts.close());

  test('tmp objects expire 24 h after their last write; data and result do not', async () => {
    const big = Buffer.alloc(100_000, 7);
    await py.put('/tmp/set/small', 'soon gone');
    await py.put('/tmp/set/big', big);
    await py.put('/data/set/small', 'stays');
    await py.put('/result/set/small', 'stays too');
    const head = await py.head('/tmp/get/small');
    const expiresAt = Date.parse(String(head.headers['x-stowage-expires-at']));
    assert.ok(Math.abs(expiresAt - (ts.clock.nowMs + 24 * HOUR)) < 2000);
    const signed = (await py.get('/tmp/get_signed_url/small?expires_in=604800')).text;

    ts.clock.advance(23 * HOUR);
    await py.put('/tmp/set/small', 'rewritten');
    ts.clock.advance(HOUR + 1000);

    assert.equal((await py.get('/tmp/get/big')).status, 404);
    assert.equal((await py.head('/tmp/get/big')).status, 404);
    assert.equal((await fetch(signed)).status, 200, 'rewritten object lives on');
    assert.deepEqual((await py.get('/tmp/list')).json(), ['small']);
    assert.equal((await py.delete('/tmp/big')).status, 404);
    assert.equal((await py.get('/data/get/small')).text, 'stays');
    assert.equal((await py.get('/result/get/small')).text, 'stays too');

    ts.clock.advance(23 * HOUR);
    assert.equal((await py.get('/tmp/get/small')).status, 404);
    assert.deepEqual((await py.get('/tmp/list')).json(), []);
  });

  test('the sweeper removes expired rows and their blobs for good', { skip: embeddedOnly }, async () => {
    await py.put('/tmp/set/sweep-me', Buffer.alloc(50_000, 1));
    const blobsBefore = await countBlobFiles(ts.dataDir);
    ts.clock.advance(25 * HOUR);
    const swept = await ts.server.context.objects.sweep();
    assert.ok(swept >= 1);
    const { db } = (ts.server.backend as unknown as { index: { db: { db: import('better-sqlite3').Database } } }).index.db;
    assert.equal(db.prepare("SELECT count(*) AS n FROM objects WHERE type = 'tmp'").get().n, 0);
    // Blob removal runs right after the commit; give it a moment.
    for (let i = 0; i < 50 && (await countBlobFiles(ts.dataDir)) >= blobsBefore; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok((await countBlobFiles(ts.dataDir)) < blobsBefore);
    assert.equal((await py.get('/data/get/small')).text, 'stays');
  });
});
