import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { currentHashThread, OFFLOAD_MIN_BYTES, type StreamingSha256, streamingSha256 } from '../src/backends/hash-thread.js';

const MiB = 1024 * 1024;

/** Feeds `data` in chunks of pseudo-random sizes (1 byte to 300 KiB), waiting when asked to. */
async function feed(hash: StreamingSha256, data: Buffer, seed: number): Promise<void> {
  let state = seed;
  for (let at = 0; at < data.length; ) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % (300 * 1024));
    const behind = hash.update(data.subarray(at, at + size));
    if (behind) await behind;
    at += size;
  }
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('streaming sha256 (hash thread for large bodies)', () => {
  it('matches node:crypto for small and large bodies, chunked anyhow', async () => {
    for (const size of [0, 1, 1000, OFFLOAD_MIN_BYTES - 1, OFFLOAD_MIN_BYTES, OFFLOAD_MIN_BYTES + 12345]) {
      const data = randomBytes(size);
      const hash = streamingSha256(size);
      await feed(hash, data, size + 1);
      assert.equal(await hash.digest(), sha256(data), `${size} bytes`);
    }
  });

  it('keeps concurrent bodies apart, also when the thread falls behind (40 MiB each)', async () => {
    const bodies = [randomBytes(40 * MiB), randomBytes(40 * MiB), randomBytes(9 * MiB)];
    const digests = await Promise.all(
      bodies.map(async (data, i) => {
        const hash = streamingSha256(data.length);
        await feed(hash, data, i + 7);
        return hash.digest();
      }),
    );
    assert.deepEqual(digests, bodies.map(sha256));
  });

  it('a discarded body leaves the others intact', async () => {
    const kept = randomBytes(12 * MiB);
    const dropped = streamingSha256(20 * MiB);
    const hash = streamingSha256(kept.length);
    await feed(dropped, randomBytes(5 * MiB), 1);
    await feed(hash, kept.subarray(0, 6 * MiB), 2);
    dropped.discard();
    await feed(hash, kept.subarray(6 * MiB), 3);
    assert.equal(await hash.digest(), sha256(kept));
  });

  it('when the thread dies, the bodies on it fail and the next one gets a new thread', async () => {
    const doomed = streamingSha256(OFFLOAD_MIN_BYTES);
    await feed(doomed, randomBytes(2 * MiB), 4);
    await currentHashThread().terminate();
    await assert.rejects(
      (async () => {
        await feed(doomed, randomBytes(MiB), 5);
        await doomed.digest();
      })(),
      /hash thread exited/,
    );
    const data = randomBytes(OFFLOAD_MIN_BYTES);
    const next = streamingSha256(data.length);
    await feed(next, data, 6);
    assert.equal(await next.digest(), sha256(data));
  });
});
