// Guards client streaming: setFile and getFile move 100 MiB byte-identical (sha256) while the
// test process (client and in-process server together) does not grow by the object's size.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, Retry, Storage } from '../src/index.js';
import { sha256File, writePatternFile } from './test-files.js';

const SIZE = 100 * 1024 * 1024;

describe('large files through the client', () => {
  let ts: TestServer;
  let dir: string;
  let storage: Storage;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-large-client-'));
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token(), env: {} }), retries: Retry.none() });
  });
  after(async () => {
    await storage.close();
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('setFile then getFile of 100 MiB: equal sha256, memory flat', async () => {
    const source = path.join(dir, 'source.bin');
    const expected = await writePatternFile(source, SIZE);

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const progress: number[] = [];
    try {
      const stored = await storage.setFile('big/file.bin', source, { onProgress: (bytes) => progress.push(bytes) });
      assert.equal(stored.size, SIZE);
      assert.equal(stored.sha256, expected);
      const target = path.join(dir, 'target.bin');
      await storage.getFile('big/file.bin', target);
      assert.equal(await sha256File(target), expected);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(progress.at(-1), SIZE);
    const growth = peak - baseline;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB while moving ${SIZE / 2 ** 20} MiB twice`);
  });
});
