// Guards client streaming: setFile and getFile move 100 MiB byte-identical (sha256) while the
// client holds far less than the object's size at any time. The server runs in a process of its
// own (its memory is large-objects.test.ts's subject), and the client's memory is what is still
// reachable after a full garbage collection: the resident size would also count buffers already
// let go of that V8 frees only at its next full collection (up to about 64 MiB of them), and so
// measure the collector's timing instead of the client.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { namespaceOf } from '../../server/test/helpers/deployment.js';
import { runCli, type ServerProcess, startServerProcess } from '../../server/test/helpers/server-process.js';
import { Auth, Retry, type SetResult, Storage } from '../src/node/index.js';
import { sha256File, writePatternFile } from './test-files.js';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB;
const WARM_UP_SIZE = 8 * 1024 * 1024;
/**
 * What the client may hold at once beyond its baseline. Node's fetch keeps a resumable upload's
 * request body until the request ends (so the fetch transport sends files in requests of 16 MiB);
 * undici holds a few chunks.
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
  let dataDir: string;
  let storage: Storage;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-large-client-'));
    dataDir = path.join(dir, 'data');
    server = await startServerProcess(dataDir);
    const token = await runCli(['token', '--user', 'alice', '--data-dir', dataDir]);
    assert.equal(token.code, 0, token.stderr);
    storage = new Storage({ url: server.url, auth: new Auth({ token: token.stdout.trim(), env: {} }), retries: Retry.none() });
  });
  after(async () => {
    try {
      await storage?.close();
    } finally {
      server?.child.kill();
      await server?.exited;
      // The scale-out pass: the objects and the schema go with the test.
      if (dataDir) await (await namespaceOf(dataDir)).drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
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

  /** The most the client held at once beyond what it held before `work`, in bytes. */
  async function heldDuring(work: () => Promise<void>): Promise<number> {
    const baseline = heldBytes();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, heldBytes());
    }, 20);
    try {
      await work();
    } finally {
      clearInterval(sampler);
    }
    return peak - baseline;
  }

  test('setFile then getFile of 100 MiB: equal sha256, client memory flat', async () => {
    // One-time costs (compiled code, buffer pools, connections) are paid by a small transfer
    // first, so the baseline measures what the object's size costs.
    await roundTrip('warm-up.bin', WARM_UP_SIZE);
    let progress: number[] = [];
    const held = await heldDuring(async () => {
      progress = await roundTrip('big.bin', SIZE);
    });
    assert.equal(progress.at(-1), SIZE);
    assert.ok(
      held < HELD_BUDGET,
      `the client held ${(held / 2 ** 20).toFixed(1)} MiB more at once while moving ${SIZE / 2 ** 20} MiB twice`,
    );
  });

  test('set of a 100 MiB stream: equal sha256, client memory flat', async () => {
    await storage.set('warm-up-stream.bin', patternStream(WARM_UP_SIZE).chunks);
    const source = patternStream(SIZE);
    let stored: SetResult | undefined;
    const held = await heldDuring(async () => {
      stored = await storage.set('big-stream.bin', source.chunks);
    });
    assert.equal(stored?.size, SIZE);
    assert.equal(stored?.sha256, source.sha256());
    assert.ok(held < HELD_BUDGET, `the client held ${(held / 2 ** 20).toFixed(1)} MiB more at once while sending ${SIZE / 2 ** 20} MiB`);
  });
});

/** `size` bytes (whole MiB) as a stream of freshly made 1 MiB chunks, and their sha256 once read. */
function patternStream(size: number): { chunks: AsyncIterable<Uint8Array>; sha256: () => string } {
  const hash = createHash('sha256');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < size / MiB; i++) {
      const block = Buffer.alloc(MiB, (i * 31) % 256);
      block.writeUInt32LE(i, 0);
      hash.update(block);
      yield block;
    }
  }
  return { chunks: chunks(), sha256: () => hash.digest('hex') };
}
