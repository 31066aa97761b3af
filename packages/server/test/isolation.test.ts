// Guards tenant isolation: the JWT subject scopes every operation. Bob must not read, list,
// delete, overwrite-into or sign Alice's keys, even knowing their names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('tenant isolation', () => {
  let ts: TestServer;
  let alice: ReturnType<typeof pythonLikeClient>;
  let bob: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer();
    alice = pythonLikeClient(ts.origin, await ts.token('alice'));
    bob = pythonLikeClient(ts.origin, await ts.token('bob'));
    await alice.put('/data/set/secret', 'alice only');
  });
  after(() => ts.close());

  test('another tenant cannot read, head, list, delete or sign the key', async () => {
    assert.equal((await bob.get('/data/get/secret')).status, 404);
    assert.equal((await bob.head('/data/get/secret')).status, 404);
    assert.deepEqual((await bob.get('/data/list')).json(), []);
    assert.equal((await bob.delete('/data/secret')).status, 404);
    assert.equal((await bob.get('/data/get_signed_url/secret')).status, 404);
    assert.equal((await alice.get('/data/get/secret')).text, 'alice only');
  });

  test("a write by another tenant under the same key does not touch the owner's value", async () => {
    await bob.put('/data/set/secret', 'bob value');
    assert.equal((await alice.get('/data/get/secret')).text, 'alice only');
    assert.equal((await bob.get('/data/get/secret')).text, 'bob value');
  });

  test("a signed URL for one tenant's key cannot be re-pointed at another tenant", async () => {
    await bob.put('/data/set/bobs', 'bob file');
    const url = new URL((await bob.get('/data/get_signed_url/bobs')).text);
    url.searchParams.set('tenant', 'alice');
    url.pathname = url.pathname.replace(/bobs$/, 'secret');
    const response = await fetch(url);
    assert.equal(response.status, 403);
  });
});
