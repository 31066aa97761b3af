// Guards streaming: a 200 MiB object goes up and comes back byte-identical (sha256) while the
// server process's RSS stays flat, i.e. no layer buffers a whole object.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { runCli, type ServerProcess, startServerProcess } from './helpers/server-process.js';

const SIZE = 200 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const RSS_BUDGET = 64 * 1024 * 1024;

/** Deterministic pseudo-random bytes, generated on the fly so the test holds no copy either. */
function generatedBody(size: number): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 12345;
  let resolveDigest: (digest: string) => void = () => {};
  const sha256 = new Promise<string>((resolve) => {
    resolveDigest = resolve;
  });
  const stream = new Readable({
    read() {
      if (sent >= size) {
        resolveDigest(hash.digest('hex'));
        this.push(null);
        return;
      }
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - sent));
      for (let i = 0; i < chunk.length; i += 4) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        chunk.writeUInt32LE(seed, i);
      }
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

describe('large objects', () => {
  let dataDir: string;
  let server: ServerProcess;
  let token: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-large-'));
    server = await startServerProcess(dataDir);
    token = (await runCli(['token', '--user', 'alice', '--data-dir', dataDir])).stdout.trim();
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a 200 MiB upload and download compare equal by sha256 while server RSS stays flat', async () => {
    const baseline = await server.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      server.rss().then(
        (rss) => {
          peak = Math.max(peak, rss);
        },
        () => {},
      );
    }, 50);
    try {
      const body = generatedBody(SIZE);
      const put = await request(`${server.url}/data/set/big.bin`, {
        method: 'PUT',
        body: body.stream,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      });
      const stored = (await put.body.json()) as { size: number; sha256: string };
      assert.equal(put.statusCode, 200);
      assert.equal(stored.size, SIZE);
      const expected = await body.sha256;
      assert.equal(stored.sha256, expected);

      const get = await request(`${server.url}/data/get/big.bin`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(get.statusCode, 200);
      assert.equal(get.headers['content-length'], String(SIZE));
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of get.body) {
        hash.update(chunk);
        received += chunk.length;
      }
      assert.equal(received, SIZE);
      assert.equal(hash.digest('hex'), expected);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - baseline < RSS_BUDGET, `server RSS grew by ${((peak - baseline) / 2 ** 20).toFixed(1)} MiB`);
  });
});
