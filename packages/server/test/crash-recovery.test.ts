// Guards durability: SIGKILL the server while large uploads stream in, restart it on the same
// data directory, and check every key holds its last acknowledged value (an unacknowledged
// write may or may not have landed, but never partly), and no temp or orphan blob remains.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import { request } from 'undici';
import { embeddedOnly } from './helpers/deployment.js';
import { runCli, startServerProcess } from './helpers/server-process.js';

const KEYS = 8;
const NEW_SIZE = 24 * 1024 * 1024;
const versionValue = (version: string, key: number, size: number) => Buffer.alloc(size, `${version}:${key};`);

/**
 * A body that trickles out so the upload is still in flight when the kill comes: 256 KiB per 10 ms,
 * about a second for 24 MiB (at 1 MiB per 5 ms a fast runtime finished before the kill).
 */
function slowBody(content: Buffer): Readable {
  const piece = 256 * 1024;
  let offset = 0;
  return new Readable({
    read() {
      setTimeout(() => {
        if (offset >= content.length) return this.push(null);
        this.push(content.subarray(offset, offset + piece));
        offset += piece;
      }, 10);
    },
  });
}

describe('crash recovery', { skip: embeddedOnly }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('SIGKILL during large uploads keeps every acknowledged value and leaves no temp or orphan blob', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-crash-'));
    dirs.push(dataDir);
    const token = (await runCli(['token', '--user', 'alice', '--data-dir', dataDir, '--ttl', '1h'])).stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    const first = await startServerProcess(dataDir);

    for (let k = 0; k < KEYS; k++) {
      const response = await request(`${first.url}/data/set/key-${k}`, {
        method: 'PUT',
        body: versionValue('v1', k, 2 * 1024 * 1024),
        headers: auth,
      });
      assert.equal(response.statusCode, 200);
      await response.body.dump();
    }
    // Half the new values are small and finish quickly (acknowledged before the kill), half trickle.
    const acknowledged = new Set<number>();
    const uploads = Array.from({ length: KEYS }, async (_, k) => {
      const size = k % 2 === 0 ? 64 * 1024 : NEW_SIZE;
      try {
        const response = await request(`${first.url}/data/set/key-${k}`, {
          method: 'PUT',
          body: k % 2 === 0 ? versionValue('v2', k, size) : slowBody(versionValue('v2', k, size)),
          headers: auth,
        });
        await response.body.dump();
        if (response.statusCode === 200) acknowledged.add(k);
      } catch {
        // The connection died with the server: not acknowledged.
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(uploads);
    assert.ok(acknowledged.size >= KEYS / 2, 'the small writes were acknowledged before the kill');
    assert.ok(acknowledged.size < KEYS, 'some writes were still in flight at the kill');

    const second = await startServerProcess(dataDir);
    try {
      for (let k = 0; k < KEYS; k++) {
        const response = await request(`${second.url}/data/get/key-${k}`, { headers: auth });
        const value = Buffer.from(await response.body.arrayBuffer());
        const v2 = versionValue('v2', k, k % 2 === 0 ? 64 * 1024 : NEW_SIZE);
        if (acknowledged.has(k)) assert.ok(value.equals(v2), `key-${k} holds its acknowledged new value`);
        else assert.ok(value.equals(v2) || value.equals(versionValue('v1', k, 2 * 1024 * 1024)), `key-${k} holds a whole value`);
      }
      assert.deepEqual(await readdir(path.join(dataDir, 'tmp')), [], 'no temp file remains');
      const db = new Sqlite(path.join(dataDir, 'index.sqlite'), { readonly: true });
      const referenced = new Set(db.prepare('SELECT blob_id FROM objects WHERE blob_id IS NOT NULL').pluck().all() as string[]);
      db.close();
      const onDisk: string[] = [];
      for (const shard of await readdir(path.join(dataDir, 'blobs'))) onDisk.push(...(await readdir(path.join(dataDir, 'blobs', shard))));
      assert.deepEqual(onDisk.sort(), [...referenced].sort(), 'every blob on disk is referenced by the index');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
