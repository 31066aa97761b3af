// Composite values on whichever deployment the suite runs: an object made of other rows' values
// without a byte copied (Backend.compose, as a multipart completion makes it). Its reads, whole and
// ranged across parts (through the engine and storage API v1), its sha256 and ETag, a part
// changed before the commit, a composite used as a part of another, copies sharing its parts, and
// the collection of its parts once the last row naming it is gone, not before.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ObjectRef, ReadResult } from '../src/backends/backend.js';
import { compositeSha256, PartChangedError } from '../src/backends/composite.js';
import { fsck } from '../src/backends/fs/fsck.js';
import { COMPOSITE_PART_GRACE_MS } from '../src/backends/garbage-collector.js';
import { apiClient } from './helpers/api-client.js';
import { embeddedOnly } from './helpers/deployment.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const KiB = 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function bytesOf(result: ReadResult | undefined): Promise<Buffer> {
  assert.ok(result?.body !== undefined, 'a value was read');
  if (Buffer.isBuffer(result.body)) return result.body;
  const chunks: Buffer[] = [];
  for await (const chunk of result.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('composite values', () => {
  let ts: TestServer;
  const tenant = 'carol';
  const at = (key: string, type = 'data'): ObjectRef => ({ tenant, type: type as ObjectRef['type'], key });
  const now = () => ts.clock.nowMs;
  const write = (ref: ObjectRef, bytes: Buffer) =>
    ts.server.backend.write(ref, Readable.from([bytes]), {
      contentType: 'application/octet-stream',
      expiresAt: undefined,
      maxBytes: 1024 ** 3,
      expectedBytes: bytes.length,
      signal: undefined,
      now: now(),
    });
  /** Writes `parts` under `prefix` and composes them at `key`, the part rows released in the commit. */
  const compose = async (key: string, prefix: string, parts: Buffer[]) => {
    const refs = parts.map((_, i) => at(`${prefix}${i}`));
    for (const [i, part] of parts.entries()) await write(refs[i] as ObjectRef, part);
    return ts.server.backend.compose(
      at(key),
      parts.map((part, i) => ({ ref: refs[i] as ObjectRef, sha256: sha256(part), size: part.length })),
      {
        contentType: 'text/plain',
        expiresAt: undefined,
        maxBytes: 1024 ** 3,
        now: now(),
        releases: { type: 'data', prefix },
      },
    );
  };
  const read = async (key: string, range?: [number, number]) =>
    bytesOf(
      await ts.server.backend.read(at(key), now(), () => (range ? { kind: 'range', start: range[0], end: range[1] } : { kind: 'all' })),
    );
  /** Sweeps (collecting what is due) with the clock past the grace of a replaced blob and of a dissolved composite's parts. */
  const collectAll = async () => {
    for (let round = 0; round < 2; round++) {
      ts.clock.advance(COMPOSITE_PART_GRACE_MS + 120_000);
      await ts.server.context.objects.sweep();
    }
  };

  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('reads whole and in ranges across its parts, with the sha256 of its parts; its part rows go, their blobs stay', async () => {
    const blobsBefore = (await ts.files()).blobs.length;
    const parts = [randomBytes(40 * KiB), randomBytes(100), Buffer.alloc(0), randomBytes(30 * KiB)];
    const whole = Buffer.concat(parts);
    const info = await compose('whole', 'parts-a/', parts);
    assert.equal(info.size, whole.length);
    assert.equal(info.sha256, compositeSha256(parts.map(sha256)));
    assert.equal(info.contentType, 'text/plain');
    assert.ok((await read('whole')).equals(whole));
    const boundary = parts[0]?.length ?? 0;
    for (const [start, end] of [
      [0, 0],
      [boundary - 1, boundary],
      [boundary, boundary + 99],
      [boundary + 50, boundary + 100 + 10],
      [10, whole.length - 1],
      [whole.length - 1, whole.length - 1],
    ] as Array<[number, number]>)
      assert.ok((await read('whole', [start, end])).equals(whole.subarray(start, end + 1)), `bytes ${start}-${end}`);
    const listed = await ts.server.backend.listFolder({
      tenant,
      type: 'data',
      prefix: 'parts-a/',
      delimiter: undefined,
      details: false,
      start: Buffer.from('parts-a/'),
      limit: 10,
      now: now(),
    });
    assert.deepEqual(listed.entries, [], 'the part rows went in the commit');
    assert.equal((await ts.files()).blobs.length, blobsBefore + 2, 'the two parts past the inline size are blobs, kept');

    // Through storage API v1: the ETag names the parts; no whole-value sha256 header to check bytes against.
    const api = apiClient(ts.origin, await ts.token(tenant));
    const got = await api.get('data', 'whole');
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(whole));
    assert.equal(got.headers.etag, `"${info.sha256}"`);
    assert.equal(got.headers['x-stowage-sha256'], undefined);
    const ranged = await api.get('data', 'whole', { range: `bytes=${boundary - 5}-${boundary + 104}` });
    assert.equal(ranged.status, 206);
    assert.ok(ranged.body.equals(whole.subarray(boundary - 5, boundary + 105)));
    assert.equal((await api.get('data', 'whole', { 'if-none-match': `"${info.sha256}"` })).status, 304);
  });

  test('a part whose row changed after the check: PartChangedError, nothing stored, the parts kept', async () => {
    const first = randomBytes(20 * KiB);
    await write(at('parts-b/0'), first);
    await write(at('parts-b/1'), randomBytes(20 * KiB));
    const checked = randomBytes(20 * KiB);
    await assert.rejects(
      ts.server.backend.compose(
        at('changed'),
        [
          { ref: at('parts-b/0'), sha256: sha256(first), size: first.length },
          { ref: at('parts-b/1'), sha256: sha256(checked), size: checked.length },
        ],
        {
          contentType: 'text/plain',
          expiresAt: undefined,
          maxBytes: 1024 ** 3,
          now: now(),
          releases: { type: 'data', prefix: 'parts-b/' },
        },
      ),
      (error: unknown) => error instanceof PartChangedError && error.index === 1,
    );
    assert.equal(await ts.server.backend.head(at('changed'), now()), undefined);
    assert.ok((await read('parts-b/0')).equals(first), 'the parts are as they were');
  });

  test('a composite as a part of another lends its own parts; copies share them; the last row gone, they are collected', async () => {
    const inner = [randomBytes(24 * KiB), randomBytes(18 * KiB)];
    await compose('inner', 'parts-c/', inner);
    // A part that is the inner value itself, by reference (as an UploadPartCopy of a whole object makes it).
    const innerInfo = await ts.server.backend.transferKey({
      from: at('inner'),
      to: at('parts-d/0'),
      move: false,
      overwrite: false,
      condition: undefined,
      now: now(),
      expiresAtIfNone: null,
    });
    const tail = randomBytes(20 * KiB);
    await write(at('parts-d/1'), tail);
    const outer = await ts.server.backend.compose(
      at('outer'),
      [
        { ref: at('parts-d/0'), sha256: innerInfo.sha256, size: innerInfo.size },
        { ref: at('parts-d/1'), sha256: sha256(tail), size: tail.length },
      ],
      { contentType: 'text/plain', expiresAt: undefined, maxBytes: 1024 ** 3, now: now(), releases: { type: 'data', prefix: 'parts-d/' } },
    );
    const expected = Buffer.concat([...inner, tail]);
    assert.equal(outer.size, expected.length);
    assert.ok((await read('outer')).equals(expected));
    assert.ok(
      (await read('outer', [inner[0]?.length ?? 0, expected.length - tail.length])).equals(expected.subarray(24 * KiB, 42 * KiB + 1)),
    );

    await ts.server.backend.transferKey({
      from: at('outer'),
      to: at('outer-copy'),
      move: false,
      overwrite: false,
      condition: undefined,
      now: now(),
      expiresAtIfNone: null,
    });
    const held = (await ts.files()).blobs.length;
    assert.equal(await ts.server.backend.delete(at('outer'), now()), true);
    assert.equal(await ts.server.backend.delete(at('inner'), now()), true);
    await collectAll();
    assert.equal((await ts.files()).blobs.length, held, 'the copy names the parts: nothing collected');
    assert.ok((await read('outer-copy')).equals(expected));
    assert.equal(await ts.server.backend.delete(at('outer-copy'), now()), true);
    await collectAll();
    assert.equal((await ts.files()).blobs.length, held - 3, "the three parts' blobs are collected with the last row naming them");
  });
});

describe('composite values of the embedded deployment', { skip: embeddedOnly }, () => {
  test('parts of a replaced composite are collected at the next start-up; parts that hold nothing make an empty value', async () => {
    const first = await startTestServer();
    const api = apiClient(first.origin, await first.token('eve'));
    const at = (key: string): ObjectRef => ({ tenant: 'eve', type: 'data', key });
    const composeOf = async (ts: TestServer, key: string, parts: Buffer[]) => {
      for (const [i, part] of parts.entries()) assert.equal((await api.put('data', `${key}-p/${i}`, part)).status, 200);
      return ts.server.backend.compose(
        at(key),
        parts.map((part, i) => ({ ref: at(`${key}-p/${i}`), sha256: sha256(part), size: part.length })),
        {
          contentType: 'text/plain',
          expiresAt: undefined,
          maxBytes: 1024 ** 3,
          now: ts.clock.nowMs,
          releases: { type: 'data', prefix: `${key}-p/` },
        },
      );
    };
    await composeOf(first, 'big', [randomBytes(30 * KiB), randomBytes(30 * KiB)]);
    const empty = await composeOf(first, 'empty', [Buffer.alloc(0), Buffer.alloc(0)]);
    assert.equal(empty.size, 0);
    assert.equal((await api.get('data', 'empty')).body.length, 0);
    assert.equal((await first.files()).blobs.length, 2);
    assert.equal((await api.call('DELETE', '/data/big')).status, 204);
    await first.server.close();
    const second = await startTestServer({}, { dataDir: first.dataDir });
    try {
      assert.deepEqual((await second.files()).blobs, [], 'start-up collected the parts of the manifest no row names');
      assert.deepEqual((await fsck({ dataDir: second.dataDir })).findings, []);
    } finally {
      await second.close();
    }
  });
});

describe('fsck of composite values', { skip: embeddedOnly }, () => {
  test('checks every part: clean as made, a missing part file found on the object', async () => {
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('dan'));
    const parts = [randomBytes(30 * KiB), randomBytes(20 * KiB), randomBytes(200)];
    for (const [i, part] of parts.entries()) assert.equal((await api.put('data', `p/${i}`, part)).status, 200);
    const at = (key: string): ObjectRef => ({ tenant: 'dan', type: 'data', key });
    await ts.server.backend.compose(
      at('made'),
      parts.map((part, i) => ({ ref: at(`p/${i}`), sha256: sha256(part), size: part.length })),
      {
        contentType: 'text/plain',
        expiresAt: undefined,
        maxBytes: 1024 ** 3,
        now: ts.clock.nowMs,
        releases: { type: 'data', prefix: 'p/' },
      },
    );
    const blobs = (await ts.files()).blobs;
    assert.equal(blobs.length, 2);
    await ts.server.close();
    assert.deepEqual((await fsck({ dataDir: ts.dataDir })).findings, []);
    const [gone] = blobs as [string];
    await rm(path.join(ts.dataDir, 'blobs', gone.slice(0, 2), gone));
    const report = await fsck({ dataDir: ts.dataDir });
    assert.deepEqual(
      report.findings.map((finding) => [finding.kind, finding.object?.key]),
      [['missing-blob', 'made']],
    );
    await rm(ts.dataDir, { recursive: true, force: true });
  });
});
