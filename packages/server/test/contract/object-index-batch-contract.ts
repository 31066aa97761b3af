import assert from 'node:assert/strict';
import { it } from 'node:test';
import { prefixRange } from '../../src/backends/key-range.js';
import type { IndexRow, ObjectIndex, RangeStep, TransferOptions } from '../../src/backends/object-index.js';
import { blobRow, code, inlineRow, put, ref, SECOND, T0, takeAll } from './index-fixtures.js';

function transfer(index: ObjectIndex, from: string, to: string, options: Partial<TransferOptions> = {}): Promise<IndexRow> {
  return index.transfer({
    from: ref(from),
    to: ref(to),
    move: false,
    overwrite: false,
    condition: undefined,
    now: T0,
    lastModified: T0 + SECOND,
    expiresAtIfNone: null,
    collectAfter: T0,
    ...options,
  });
}

/** Runs range batches of `limit` to the end, as the engine does; every step, in order. */
async function walk(step: (start: Buffer) => Promise<RangeStep>, start: Buffer): Promise<RangeStep[]> {
  const steps: RangeStep[] = [];
  for (let next: Buffer | undefined = start; next; ) {
    const done = await step(next);
    steps.push(done);
    next = done.next;
  }
  return steps;
}

const total = (steps: RangeStep[]) => ({
  objects: steps.reduce((sum, step) => sum + step.objects, 0),
  bytes: steps.reduce((sum, step) => sum + step.bytes, 0),
  skipped: steps.flatMap((step) => step.skipped),
});

/**
 * Copies, moves and range operations: blobs shared by rows and collected when the last goes,
 * usage kept exact, every batch one transaction. Called inside the ObjectIndex contract.
 */
export function batchContract(fresh: () => Promise<ObjectIndex>): void {
  it('a copy or move between tenants (out of a bucket shared with the caller) lands in the destination tenant, each charged its side', async () => {
    const index = await fresh();
    await put(index, ref('shared.csv', 'alice', 'data'), inlineRow('0123456789'));
    await index.transfer({
      from: ref('shared.csv', 'alice', 'data'),
      to: ref('mine.csv', 'bob', 'data'),
      move: false,
      overwrite: false,
      condition: undefined,
      now: T0,
      lastModified: undefined,
      expiresAtIfNone: null,
      collectAfter: T0,
    });
    assert.equal((await index.find({ ref: ref('mine.csv', 'bob', 'data'), now: T0 }))?.size, 10, "in bob's rows");
    assert.equal(await index.find({ ref: ref('mine.csv', 'alice', 'data'), now: T0 }), undefined, "not in alice's");
    assert.deepEqual([(await index.usage('alice')).bytes, (await index.usage('bob')).bytes], [10, 10]);
    await index.transfer({
      from: ref('mine.csv', 'bob', 'data'),
      to: ref('back.csv', 'alice', 'data'),
      move: true,
      overwrite: false,
      condition: undefined,
      now: T0,
      lastModified: undefined,
      expiresAtIfNone: null,
      collectAfter: T0,
    });
    assert.equal(await index.find({ ref: ref('mine.csv', 'bob', 'data'), now: T0 }), undefined, 'moved away');
    assert.equal((await index.find({ ref: ref('back.csv', 'alice', 'data'), now: T0 }))?.size, 10);
    assert.deepEqual(
      [(await index.usage('alice')).objects, (await index.usage('bob')).objects, (await index.usage('bob')).bytes],
      [2, 0, 0],
    );
  });

  it('a copy shares the blob: removing either row does not free it, removing both does', async () => {
    const index = await fresh();
    const row = blobRow(100, { attributes: { metadata: { owner: 'ana' }, cacheControl: 'no-cache', contentDisposition: null } });
    await put(index, ref('a'), row);
    const copied = await transfer(index, 'a', 'b');
    assert.equal(copied.blobId, row.blobId);
    assert.equal(copied.lastModified, T0 + SECOND, 'a copy is a new object');
    assert.deepEqual(copied.attributes, row.attributes, 'attributes travel with the value');
    assert.deepEqual(await index.find({ ref: ref('b'), now: T0 }), copied);
    assert.ok(await index.remove({ ref: ref('a'), now: T0, condition: undefined, collectAfter: T0 }));
    assert.deepEqual(await takeAll(index, T0), [], 'b still names the blob: not garbage');
    assert.deepEqual(await takeAll(index, T0), [], 'and it left the queue');
    assert.ok(await index.knownBlobs([row.blobId as string]).then((known) => known.size === 1));
    assert.ok(await index.remove({ ref: ref('b'), now: T0, condition: undefined, collectAfter: T0 }));
    assert.deepEqual(await takeAll(index, T0), [row.blobId], 'the last reference went');
  });

  it('a blob shared by a copy survives an overwrite of either key', async () => {
    const index = await fresh();
    const row = blobRow(10);
    await put(index, ref('x'), row);
    await transfer(index, 'x', 'y');
    await put(index, ref('x'), inlineRow('new'));
    assert.deepEqual(await takeAll(index, T0), []);
    await put(index, ref('y'), inlineRow('newer'));
    assert.deepEqual(await takeAll(index, T0), [row.blobId]);
  });

  it('a move is one row changing key: same blob, same Last-Modified, nothing queued, usage unchanged', async () => {
    const index = await fresh();
    const row = blobRow(50);
    await put(index, ref('old'), row);
    const before = await index.usage('acme');
    const moved = await transfer(index, 'old', 'new', { move: true, lastModified: undefined });
    // The moved value is a new version of its new key.
    assert.notEqual(moved.versionId, row.versionId);
    assert.deepEqual(moved, { ...row, versionId: moved.versionId });
    assert.equal(await index.find({ ref: ref('old'), now: T0 }), undefined);
    assert.deepEqual(await index.find({ ref: ref('new'), now: T0 }), moved);
    assert.deepEqual(await takeAll(index, T0), []);
    const after = await index.usage('acme');
    assert.deepEqual([after.bytes, after.objects], [before.bytes, before.objects]);
  });

  it('transfer: NoSuchKey, DestinationExists unless overwrite, If-Match on the source; a refused one changes nothing', async () => {
    const index = await fresh();
    const source = blobRow(5);
    const target = blobRow(7);
    await put(index, ref('s'), source);
    await put(index, ref('t'), target);
    await assert.rejects(transfer(index, 'missing', 'u'), code('NoSuchKey'));
    await put(index, ref('expired'), inlineRow('e', { expiresAt: T0 }));
    await assert.rejects(transfer(index, 'expired', 'u'), code('NoSuchKey'), 'an expired source does not exist');
    await assert.rejects(transfer(index, 's', 't', { move: true }), code('DestinationExists'));
    await assert.rejects(transfer(index, 's', 'u', { move: true, condition: { ifMatch: ['"other"'] } }), code('PreconditionFailed'));
    assert.deepEqual(await index.find({ ref: ref('s'), now: T0 }), source, 'the source is intact');
    assert.deepEqual(await index.find({ ref: ref('t'), now: T0 }), target);
    assert.equal(await index.find({ ref: ref('u'), now: T0 }), undefined);
    await transfer(index, 's', 't', { move: true, overwrite: true, condition: { ifMatch: [`"${source.sha256}"`] } });
    assert.equal((await index.find({ ref: ref('t'), now: T0 }))?.blobId, source.blobId);
    assert.deepEqual(await takeAll(index, T0), [target.blobId], "the replaced destination's blob is garbage");
    const usage = await index.usage('acme');
    assert.deepEqual([usage.bytes, usage.objects], [5 + 1, 2], 's moved onto t; the expired row still counts until swept');
  });

  it('a transfer may replace the content type and attributes, and may target its own key then', async () => {
    const index = await fresh();
    const row = blobRow(10, { attributes: { metadata: { old: '1' }, cacheControl: null, contentDisposition: null } });
    await put(index, ref('meta'), row);
    const replace = {
      contentType: 'text/csv',
      attributes: { metadata: { fresh: 'yes' }, cacheControl: 'no-store', contentDisposition: null },
    };
    const copied = await transfer(index, 'meta', 'meta-copy', { replace });
    assert.equal(copied.contentType, 'text/csv');
    assert.deepEqual(copied.attributes, replace.attributes);
    assert.equal(copied.blobId, row.blobId);
    const inPlace = await transfer(index, 'meta', 'meta', { overwrite: true, replace: { contentType: 'text/plain', attributes: null } });
    assert.equal(inPlace.blobId, row.blobId);
    assert.deepEqual((await index.find({ ref: ref('meta'), now: T0 }))?.attributes, null);
    assert.deepEqual(await takeAll(index, T0), [], 'the blob is still named');
    const usage = await index.usage('acme');
    assert.deepEqual([usage.objects, usage.bytes], [2, 20], 'a copy onto itself adds nothing');
  });

  it("replacing attributes keeps what describes the bytes (their content group: S3's ETag, part count and part size) and replaces the rest", async () => {
    const index = await fresh();
    const s3 = {
      metadata: { old: '1' },
      cacheControl: null,
      contentDisposition: null,
      chosen: { s3Headers: { 'content-language': 'de' } },
      content: { parts: 3, partSize: 4, s3Etag: '0123456789abcdef0123456789abcdef-3' },
    };
    await put(index, ref('etag'), blobRow(10, { attributes: s3 }));
    assert.deepEqual((await index.find({ ref: ref('etag'), now: T0 }))?.attributes, s3);
    const replacement = { metadata: { fresh: 'yes' }, cacheControl: 'no-store', contentDisposition: null };
    const copied = await transfer(index, 'etag', 'etag-copy', { replace: { contentType: 'text/csv', attributes: replacement } });
    assert.deepEqual(copied.attributes, { ...replacement, content: s3.content });
    const cleared = await transfer(index, 'etag', 'etag', { overwrite: true, replace: { contentType: 'text/plain', attributes: null } });
    assert.deepEqual(cleared.attributes, { metadata: {}, cacheControl: null, contentDisposition: null, content: s3.content });
    assert.deepEqual((await index.find({ ref: ref('etag'), now: T0 }))?.attributes, cleared.attributes);
  });

  it('a put that releases a range removes its rows in the same commit: usage is net, the quota sees the swap, blobs are queued', async () => {
    const index = await fresh();
    const parts = [blobRow(400), blobRow(400), blobRow(200)];
    for (const [i, part] of parts.entries()) await put(index, ref(`p/u1/${i}`, 'acme', '.multipart' as 'data'), part);
    await put(index, ref('p/u2/0', 'acme', '.multipart' as 'data'), blobRow(50));
    await index.setQuota('acme', 1200);
    const whole = blobRow(1000);
    // 1050 stored + 1000 is past 1200; 1050 - 1000 released + 1000 is not.
    await assert.rejects(put(index, ref('object'), whole), code('QuotaExceeded'));
    const releases = { tenant: 'acme', type: '.multipart' as 'data', ...prefixRange('p/u1/') };
    // A commit that fails (its condition) removes nothing.
    await assert.rejects(put(index, ref('object'), whole, { releases, condition: { ifMatch: ['"nope"'] } }), code('PreconditionFailed'));
    assert.equal((await index.usage('acme')).bytes, 1050);
    await put(index, ref('object'), whole, { releases });
    assert.deepEqual([(await index.usage('acme')).bytes, (await index.usage('acme')).objects], [1050, 2]);
    for (let i = 0; i < 3; i++)
      assert.equal(await index.find({ ref: ref(`p/u1/${i}`, 'acme', '.multipart' as 'data'), now: T0 }), undefined);
    assert.ok(await index.find({ ref: ref('p/u2/0', 'acme', '.multipart' as 'data'), now: T0 }), 'another upload keeps its part');
    assert.deepEqual((await takeAll(index, T0)).sort(), parts.map((part) => part.blobId).sort(), "the released parts' blobs are garbage");
  });

  it('a copy counts against the quota and is refused past it, storing nothing', async () => {
    const index = await fresh();
    await put(index, ref('big'), blobRow(600));
    await index.setQuota('acme', 1000);
    await assert.rejects(transfer(index, 'big', 'big-copy'), code('QuotaExceeded'));
    assert.equal(await index.find({ ref: ref('big-copy'), now: T0 }), undefined);
    await transfer(index, 'big', 'moved', { move: true });
    assert.equal((await index.usage('acme')).bytes, 600, 'a move adds nothing');
  });

  it('a copy into tmp gets the expiry it is given when the source has none; one that has its own keeps it', async () => {
    const index = await fresh();
    await put(index, ref('forever'), inlineRow('f'));
    await put(index, ref('soon'), inlineRow('s', { expiresAt: T0 + 5 * SECOND }));
    const tmp = { expiresAtIfNone: T0 + 60 * SECOND };
    assert.equal((await transfer(index, 'forever', 'f2', { ...tmp, to: ref('f2', 'acme', 'tmp') })).expiresAt, T0 + 60 * SECOND);
    assert.equal((await transfer(index, 'soon', 's2', { ...tmp, to: ref('s2', 'acme', 'tmp') })).expiresAt, T0 + 5 * SECOND);
  });

  it('removeRange: batches in key order to the end, only the prefix, counting what was visible', async () => {
    const index = await fresh();
    const keys = Array.from({ length: 25 }, (_, i) => `dir/${String(i).padStart(2, '0')}`);
    for (const key of keys) await put(index, ref(key), blobRow(10));
    await put(index, ref('dir/expired'), blobRow(3, { expiresAt: T0 }));
    await put(index, ref('dir0'), inlineRow('next to the prefix'));
    await put(index, ref('di'), inlineRow('shorter'));
    await put(index, ref('dir/x', 'other-tenant'), inlineRow('not mine'));
    await put(index, ref('dir/x', 'acme', 'tmp'), inlineRow('another type'));
    const range = { tenant: 'acme', type: 'data' as const, ...prefixRange('dir/') };
    const steps = await walk((start) => index.removeRange({ ...range, start, limit: 10, now: T0, collectAfter: T0 }), range.start);
    assert.deepEqual(
      steps.map((step) => step.objects),
      [10, 10, 5],
      'three batches (the expired row is removed but not counted)',
    );
    assert.deepEqual(total(steps), { objects: 25, bytes: 250, skipped: [] });
    const left = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: undefined, limit: 100, now: T0 });
    assert.deepEqual(left.keys, ['di', 'dir0']);
    assert.ok(await index.find({ ref: ref('dir/x', 'other-tenant'), now: T0 }));
    assert.ok(await index.find({ ref: ref('dir/x', 'acme', 'tmp'), now: T0 }));
    assert.equal((await takeAll(index, T0)).length, 26, 'every removed blob is queued, the expired one too');
    const usage = await index.usage('acme');
    assert.deepEqual([usage.objects, usage.bytes], [3, 'next to the prefix'.length + 'shorter'.length + 'another type'.length]);
  });

  it('removeMany: one transaction, the size per key, undefined for a key with no visible object', async () => {
    const index = await fresh();
    await put(index, ref('m1'), inlineRow('one'));
    await put(index, ref('m2'), blobRow(20));
    await put(index, ref('gone'), inlineRow('x', { expiresAt: T0 }));
    const sizes = await index.removeMany({
      tenant: 'acme',
      type: 'data',
      keys: ['m1', 'nothing', 'm2', 'gone', 'm1'],
      now: T0,
      collectAfter: T0,
    });
    assert.deepEqual(sizes, [3, undefined, 20, undefined, undefined]);
    assert.deepEqual((await index.usage('acme')).objects, 0);
  });

  it('countRange counts the visible objects of a prefix now', async () => {
    const index = await fresh();
    await put(index, ref('p/a'), blobRow(100));
    await put(index, ref('p/b/c'), inlineRow('abc'));
    await put(index, ref('p/old'), inlineRow('zz', { expiresAt: T0 + SECOND }));
    await put(index, ref('q'), inlineRow('not under p/'));
    const count = (prefix: string, now = T0) => index.countRange({ tenant: 'acme', type: 'data', ...prefixRange(prefix), now });
    assert.deepEqual(await count('p/'), { objects: 3, bytes: 105 });
    assert.deepEqual(await count('p/', T0 + SECOND), { objects: 2, bytes: 103 });
    assert.deepEqual(await count(''), { objects: 4, bytes: 105 + 'not under p/'.length });
    assert.deepEqual(await count('nothing'), { objects: 0, bytes: 0 });
  });

  it('transferRange copies a prefix across types, skips existing destinations unless overwrite, then moves', async () => {
    const index = await fresh();
    for (let i = 0; i < 12; i++) await put(index, ref(`src/${i}`), blobRow(i + 1));
    await put(index, ref('dst/3', 'acme', 'result'), inlineRow('already there'));
    const range = { tenant: 'acme', type: 'data' as const, ...prefixRange('src/') };
    const base = {
      fromPrefix: 'src/',
      toType: 'result' as const,
      toPrefix: 'dst/',
      limit: 5,
      now: T0,
      lastModified: T0,
      // Expiry goes by the destination's key (a bucket's lifecycle rules go by prefix).
      expiresAtIfNone: (key: string) => (key === 'dst/7' ? T0 + 60 * SECOND : null),
      collectAfter: T0,
    };
    const copySteps = await walk(
      (start) => index.transferRange({ ...base, range: { ...range, start }, move: false, overwrite: false }),
      range.start,
    );
    assert.deepEqual(total(copySteps).skipped, ['src/3']);
    assert.equal((await index.find({ ref: ref('dst/7', 'acme', 'result'), now: T0 }))?.expiresAt, T0 + 60 * SECOND);
    assert.equal((await index.find({ ref: ref('dst/8', 'acme', 'result'), now: T0 }))?.expiresAt, null);
    assert.equal(total(copySteps).objects, 11);
    assert.equal((await index.find({ ref: ref('dst/3', 'acme', 'result'), now: T0 }))?.inline?.toString(), 'already there');
    assert.equal(
      (await index.find({ ref: ref('dst/11', 'acme', 'result'), now: T0 }))?.blobId,
      (await index.find({ ref: ref('src/11'), now: T0 }))?.blobId,
    );
    const moveSteps = await walk(
      (start) =>
        index.transferRange({ ...base, toType: 'tmp', toPrefix: 'moved/', range: { ...range, start }, move: true, overwrite: true }),
      range.start,
    );
    assert.equal(total(moveSteps).objects, 12);
    assert.equal((await index.countRange({ tenant: 'acme', type: 'data', ...prefixRange(''), now: T0 })).objects, 0);
    assert.equal((await index.countRange({ tenant: 'acme', type: 'tmp', ...prefixRange('moved/'), now: T0 })).objects, 12);
    assert.deepEqual(await takeAll(index, T0), [], 'every blob is still named by a copy');
    const usage = await index.usage('acme');
    assert.deepEqual([usage.objects, usage.bytes], [24, 2 * 78 + 'already there'.length - 4]);
  });

  it('scan: keys in byte order from an inclusive start, with rows (attributes, no inline bytes) when asked', async () => {
    const index = await fresh();
    const attributes = { metadata: { city: 'København' }, cacheControl: 'max-age=60', contentDisposition: 'attachment' };
    await put(index, ref('s/b'), inlineRow('bee', { attributes }));
    await put(index, ref('s/a'), blobRow(9));
    await put(index, ref('s/c'), inlineRow('gone', { expiresAt: T0 }));
    const range = { tenant: 'acme', type: 'data' as const, ...prefixRange('s/') };
    const keys = await index.scan({ ...range, limit: 10, now: T0, details: false });
    assert.deepEqual(keys, [
      { key: 's/a', row: undefined },
      { key: 's/b', row: undefined },
    ]);
    const detailed = await index.scan({ ...range, start: Buffer.from('s/b'), limit: 10, now: T0, details: true });
    assert.equal(detailed.length, 1);
    assert.deepEqual(detailed[0]?.row?.attributes, attributes);
    assert.equal(detailed[0]?.row?.size, 3);
    assert.equal(detailed[0]?.row?.inline, null, 'a listing does not carry values');
    assert.deepEqual((await index.find({ ref: ref('s/b'), now: T0 }))?.attributes, attributes);
  });
}
