// Guards the client's undo calls against the real server: versions listed past one page,
// restore of a key (newest earlier version, or by id), restore of a prefix at a time, and the
// errors a caller sees.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, NotFoundError, Storage } from '../src/node/index.js';

describe('retention and undo (client)', () => {
  let ts: TestServer;
  let storage: Storage;
  before(async () => {
    ts = await startTestServer({ retentionMs: 7 * 86_400_000 });
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('carla', 30 * 86_400_000) }) });
  });
  after(async () => {
    await storage.close();
    await ts.close();
  });

  test('restore of a key and of a prefix; versions over several pages', async () => {
    await storage.set('r/a.txt', 'a1');
    await storage.set('r/b.txt', 'b1');
    ts.clock.advance(1_000);
    const before = new Date(ts.clock.nowMs);
    ts.clock.advance(1_000);
    await storage.set('r/a.txt', 'a2');
    await storage.set('r/c.txt', 'c1');
    await storage.deleteMany(['r/b.txt']);
    const versions = await storage.versions('r/', { limit: 2 });
    assert.deepEqual(
      versions.map((v) => [v.key, v.current, v.isDeleteMarker]),
      [
        ['r/a.txt', true, false],
        ['r/a.txt', false, false],
        ['r/b.txt', false, true],
        ['r/b.txt', false, false],
        ['r/c.txt', true, false],
      ],
    );

    ts.clock.advance(1_000);
    const result = await storage.restorePrefix('r/', { at: before });
    assert.deepEqual([result.restored, result.deleted, result.unchanged, result.skipped], [2, 1, 0, 0]);
    assert.equal(await storage.get('r/a.txt'), 'a1');
    assert.equal(await storage.get('r/b.txt'), 'b1');
    assert.equal(await storage.exists('r/c.txt'), false);

    const back = await storage.restore('r/c.txt');
    assert.equal(back.size, 2);
    assert.equal(await storage.get('r/c.txt'), 'c1');
    const a2 = versions[0];
    await storage.restore('r/a.txt', { versionId: a2?.versionId });
    assert.equal(await storage.get('r/a.txt'), 'a2');
    await assert.rejects(storage.restore('r/never.txt'), (error) => error instanceof NotFoundError && error.code === 'NoSuchVersion');
    await assert.rejects(storage.restorePrefix('r/', { at: 'not a time' }), TypeError);
  });
});
