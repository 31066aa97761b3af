// Guards client streaming: setFile and getFile move 100 MiB byte-identical (sha256) while the
// test process (client and in-process server together) does not grow by the object's size.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, Retry, Storage } from '../src/node/index.js';
import { sha256File, writePatternFile } from './test-files.js';

const SIZE = 100 * 1024 * 1024;
const WARM_UP_SIZE = 8 * 1024 * 1024;

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

  /** setFile then getFile of `size` bytes under `key`; checks sha256 and returns the progress calls. */
  async function roundTrip(key: string, size: number): Promise<number[]> {
    const source = path.join(dir, `${key}.source`);
    const expected = await writePatternFile(source, size);
    const progress: number[] = [];
    const stored = await storage.setFile(key, source, { onProgress: (bytes) => progress.push(bytes) });
    assert.equal(stored.size, size);
    assert.equal(stored.sha256, expected);
    const target = path.join(dir, `${key}.target`);
    await storage.getFile(key, target);
    assert.equal(await sha256File(target), expected);
    return progress;
  }

  test('setFile then getFile of 100 MiB: equal sha256, memory flat', async () => {
    // One-time costs (compiled code, buffer pools, the index's page cache) are paid by a small
    // transfer first, so the baseline measures what the object's size costs.
    await roundTrip('warm-up.bin', WARM_UP_SIZE);
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    let progress: number[];
    try {
      progress = await roundTrip('big.bin', SIZE);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(progress.at(-1), SIZE);
    const growth = peak - baseline;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MiB while moving ${SIZE / 2 ** 20} MiB twice`);
  });
});
