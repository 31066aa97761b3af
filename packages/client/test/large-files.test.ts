// Guards client streaming: setFile and getFile move 100 MiB byte-identical (sha256) while the
// client holds far less than the object's size at any time. The server runs in a process of its
// own (its memory is large-objects.test.ts's subject), and the client's memory is what is still
// reachable after a full garbage collection: the resident size would also count buffers already
// let go of that V8 frees only at its next full collection (up to about 64 MiB of them), and so
// measure the collector's timing instead of the client.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runCli, type ServerProcess, startServerProcess } from '../../server/test/helpers/server-process.js';
import { Auth, Retry, Storage } from '../src/node/index.js';
import { sha256File, writePatternFile } from './test-files.js';

const SIZE = 100 * 1024 * 1024;
const WARM_UP_SIZE = 8 * 1024 * 1024;
/**
 * What the client may hold at once beyond its baseline. Node's fetch keeps a request's body until
 * the request ends (so the fetch transport sends files in requests of 16 MiB); undici holds a
 * few chunks.
 */
const HELD_BUDGET = 32 * 1024 * 1024;

/** A full garbage collection, without starting node with --expose-gc. */
const collectGarbage = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

/** What the process's JavaScript objects and the buffers they hold take, after a full collection. */
function heldBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('large files through the client', () => {
  let server: ServerProcess;
  let dir: string;
  let storage: Storage;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-large-client-'));
    const dataDir = path.join(dir, 'data');
    server = await startServerProcess(dataDir);
    const { stdout: token } = await runCli(['token', '--user', 'alice', '--data-dir', dataDir]);
    storage = new Storage({ url: server.url, auth: new Auth({ token: token.trim(), env: {} }), retries: Retry.none() });
  });
  after(async () => {
    await storage?.close();
    server?.child.kill();
    await server?.exited;
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

  test('setFile then getFile of 100 MiB: equal sha256, client memory flat', async () => {
    // One-time costs (compiled code, buffer pools, connections) are paid by a small transfer
    // first, so the baseline measures what the object's size costs.
    await roundTrip('warm-up.bin', WARM_UP_SIZE);
    const baseline = heldBytes();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, heldBytes());
    }, 20);
    let progress: number[];
    try {
      progress = await roundTrip('big.bin', SIZE);
    } finally {
      clearInterval(sampler);
    }
    assert.equal(progress.at(-1), SIZE);
    const growth = peak - baseline;
    assert.ok(
      growth < HELD_BUDGET,
      `the client held ${(growth / 2 ** 20).toFixed(1)} MiB more at once while moving ${SIZE / 2 ** 20} MiB twice`,
    );
  });
});
