// Guards reads of a damaged data directory: a blob file cut short (a disk fault, a hand edit)
// must not go out as a 200 whose body silently ends early; the read fails whole (500, logged)
// and `stowage fsck` names the damage.
import assert from 'node:assert/strict';
import { readdir, truncate } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

let ts: TestServer;
before(async () => {
  ts = await startTestServer();
});
after(() => ts.close());

test('a blob shorter than its index row is refused with 500, not served short', { skip: embeddedOnly }, async () => {
  const py = pythonLikeClient(ts.origin, await ts.token('alice'));
  assert.equal((await py.put('/data/set/big', Buffer.alloc(100_000, 'b'))).status, 200);
  const blobs = path.join(ts.dataDir, 'blobs');
  const [shard = ''] = await readdir(blobs);
  const [blob = ''] = await readdir(path.join(blobs, shard));
  await truncate(path.join(blobs, shard, blob), 60_000);

  const response = await py.get('/data/get/big');
  assert.equal(response.status, 500);
  assert.equal(response.json<{ code: string }>().code, 'InternalError');
  assert.equal((await py.put('/data/set/other', 'fine')).status, 200, 'the server keeps serving');
});
