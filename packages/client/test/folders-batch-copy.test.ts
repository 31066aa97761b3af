// Guards the client's Stowage extensions against the real server: metadata that round-trips
// (non-ASCII included, on direct and resumable uploads), folder and detailed listings paged past
// 1000 entries, delete by prefix and by list, usage under a prefix counted exactly, server-side
// copy (a copy outlives its source) and move, signed URLs with a file name, and every new call
// cancelled by its signal before a request leaves.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import {
  Auth,
  BadRequestError,
  ConflictError,
  type ListEntry,
  NotFoundError,
  PreconditionFailedError,
  Retry,
  Storage,
  type StorageValue,
} from '../src/node/index.js';

/** Runs `work` over `items`, 16 at a time. */
async function eachBounded<T>(items: readonly T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

describe('folders, batch operations, copy and move, metadata', () => {
  let ts: TestServer;
  let storage: Storage;
  let dir: string;
  const setAll = (entries: ReadonlyArray<readonly [string, StorageValue]>, storageType: 'data' | 'tmp' | 'result' = 'data') =>
    eachBounded(entries, ([key, value]) => storage.set(key, value, storageType));

  before(async () => {
    ts = await startTestServer();
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('folders'), env: {} }), retries: Retry.none() });
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-folders-'));
  });
  after(async () => {
    await storage.close();
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('metadata, Cache-Control and Content-Disposition round-trip; a write without them clears them', async () => {
    const metadata = {
      camera: 'X100',
      city: 'København',
      rocket: '🚀 to the 月',
      looks_encoded: "UTF-8''abc",
      spaced: '  padded  ',
      empty: '',
    };
    await storage.set('meta/a.jpg', 'jpeg bytes', {
      contentType: 'image/jpeg',
      metadata,
      cacheControl: 'max-age=3600, public',
      contentDisposition: 'inline; filename="a.jpg"',
    });
    const info = await storage.info('meta/a.jpg');
    assert.deepEqual(info.metadata, metadata);
    assert.equal(info.cacheControl, 'max-age=3600, public');
    assert.equal(info.contentDisposition, 'inline; filename="a.jpg"');
    assert.equal(info.contentType, 'image/jpeg');
    assert.equal(info.size, 10);

    const { objects } = await storage.list('meta/', { details: true });
    assert.equal(objects.length, 1);
    assert.deepEqual(objects[0]?.metadata, metadata);
    assert.equal(objects[0]?.cacheControl, 'max-age=3600, public');
    assert.equal(objects[0]?.size, 10);
    assert.equal(objects[0]?.etag, info.etag);

    await storage.set('meta/a.jpg', 'new bytes');
    const cleared = await storage.info('meta/a.jpg');
    assert.deepEqual(cleared.metadata, {});
    assert.equal(cleared.contentDisposition, undefined);
    assert.equal((await storage.list('meta/', { details: true })).objects[0]?.cacheControl, null);
  });

  test('metadata rides on the chunk that completes a resumable upload', async () => {
    const chunked = new Storage({
      url: ts.url,
      auth: new Auth({ token: await ts.token('folders'), env: {} }),
      retries: Retry.none(),
      resumableThreshold: 1024,
      chunkSize: 256 * 1024,
    });
    try {
      const file = path.join(dir, 'big.bin');
      await writeFile(file, Buffer.alloc(600 * 1024, 7));
      await chunked.setFile('meta/big.bin', file, { metadata: { owner: 'Zoë' }, cacheControl: 'no-store' });
      const info = await chunked.info('meta/big.bin');
      assert.equal(info.size, 600 * 1024);
      assert.deepEqual(info.metadata, { owner: 'Zoë' });
      assert.equal(info.cacheControl, 'no-store');
    } finally {
      await chunked.close();
    }
  });

  test('illegal metadata is refused before any request', async () => {
    const refused: Array<Record<string, string>> = [
      { 'Upper-Case': 'x' },
      { 'has space': 'x' },
      { ['n'.repeat(65)]: 'x' },
      { lone: '\ud800' },
    ];
    for (const metadata of refused) {
      await assert.rejects(storage.set('meta/refused', 'x', { metadata }), (error: unknown) => {
        assert.ok(error instanceof BadRequestError);
        assert.equal(error.code, 'InvalidMetadata');
        assert.equal(error.status, undefined, 'refused by the client');
        return true;
      });
    }
    await assert.rejects(storage.set('meta/refused', 'x', { contentDisposition: 'attachment; filename="ø"' }), BadRequestError);
    await assert.rejects(storage.set('meta/refused', 'x', { metadata: { big: 'x'.repeat(3000) } }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 'InvalidMetadata');
      assert.equal(error.status, 400, 'the size limit is the server’s');
      return true;
    });
    assert.equal(await storage.exists('meta/refused'), false);
  });

  test('folder listing: one level, folders and objects merged in byte order', async () => {
    await setAll(['f/a', 'f/b/1', 'f/b/2', 'f/c/deep/x', 'f/d', 'f/é', 'f/z/'].map((key) => [key, key] as const));
    const page = await storage.list('f/', { delimiter: '/' });
    assert.deepEqual(page, { objects: ['f/a', 'f/d', 'f/é'], folders: ['f/b/', 'f/c/', 'f/z/'] });
    const entries: ListEntry[] = [];
    for await (const entry of storage.iterList('f/', { delimiter: '/' })) entries.push(entry);
    assert.deepEqual(
      entries.map((entry) => (entry.kind === 'folder' ? `folder ${entry.prefix}` : entry.key)),
      ['f/a', 'folder f/b/', 'folder f/c/', 'f/d', 'folder f/z/', 'f/é'],
    );
    assert.deepEqual(await storage.list('f/'), ['f/a', 'f/b/1', 'f/b/2', 'f/c/deep/x', 'f/d', 'f/z/', 'f/é'], 'plain listing unchanged');
    const detailed = await storage.list('f/', { delimiter: '/', details: true });
    assert.deepEqual(
      detailed.objects.map((object) => [object.key, object.size]),
      [
        ['f/a', 3],
        ['f/d', 3],
        ['f/é', 4],
      ],
    );
    assert.deepEqual(detailed.folders, ['f/b/', 'f/c/', 'f/z/']);
  });

  test('folder and detailed listings page past 1000 entries, each entry once, in order', async () => {
    const objects = Array.from({ length: 1020 }, (_, i) => `pg/o${String(i).padStart(4, '0')}`);
    const nested = Array.from({ length: 30 }, (_, i) => [
      `pg/f${String(i).padStart(2, '0')}/a`,
      `pg/f${String(i).padStart(2, '0')}/b`,
    ]).flat();
    await setAll([...objects, ...nested].map((key) => [key, 'xy'] as const));

    const first = await storage.list('pg/', { delimiter: '/' });
    assert.equal(first.objects.length + first.folders.length, 1000, 'one page');

    const names: string[] = [];
    for await (const entry of storage.iterList('pg/', { delimiter: '/' })) names.push(entry.kind === 'folder' ? entry.prefix : entry.key);
    const folders = Array.from({ length: 30 }, (_, i) => `pg/f${String(i).padStart(2, '0')}/`);
    assert.deepEqual(names, [...folders, ...objects]);

    let detailed = 0;
    let lastKey = '';
    for await (const entry of storage.iterList('pg/', { details: true })) {
      assert.equal(entry.kind, 'object');
      if (entry.kind !== 'object') continue;
      assert.equal(entry.details.size, 2);
      assert.equal(entry.details.key, entry.key);
      assert.ok(entry.key > lastKey);
      lastKey = entry.key;
      detailed++;
    }
    assert.equal(detailed, 1080);
  });

  test('usage under a prefix is exact, per type and summed; usage() without a prefix is unchanged', async () => {
    await setAll(
      [
        ['u/a', 'a'.repeat(10)],
        ['u/b/c', 'b'.repeat(20)],
        ['v/outside', 'c'.repeat(40)],
      ],
      'data',
    );
    await setAll([['u/t', 't'.repeat(5)]], 'tmp');
    assert.deepEqual(await storage.usage({ prefix: 'u/', storageType: 'data' }), { type: 'data', prefix: 'u/', objects: 2, bytes: 30 });
    const summary = await storage.usage({ prefix: 'u/' });
    assert.deepEqual(summary, {
      prefix: 'u/',
      objects: 3,
      bytes: 35,
      types: { data: { objects: 2, bytes: 30 }, tmp: { objects: 1, bytes: 5 }, result: { objects: 0, bytes: 0 } },
    });
    const everything = await storage.usage({ prefix: '' });
    const report = await storage.usage();
    assert.equal(report.tenant, 'folders');
    assert.equal(everything.objects, report.objects);
    assert.equal(everything.bytes, report.bytes);
  });

  test('deletePrefix deletes every key under the prefix and counts them; an empty prefix needs all', async () => {
    await setAll(['dp/1', 'dp/2/x', 'dp/3', 'dpx'].map((key) => [key, 'four'] as const));
    assert.deepEqual(await storage.deletePrefix('dp/'), { deleted: 3, bytes: 12 });
    assert.deepEqual(await storage.list('dp'), ['dpx']);
    assert.deepEqual(await storage.deletePrefix('dp/'), { deleted: 0, bytes: 0 });

    await assert.rejects(storage.deletePrefix('', { storageType: 'tmp' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.code, 'ConfirmationRequired');
      return true;
    });
    const refused = await fetch(`${ts.url}/tmp/delete_prefix?prefix=`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await ts.token('folders')}` },
    });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { code: string }).code, 'ConfirmationRequired', 'the server refuses too');

    await setAll(
      [
        ['t1', 'a'],
        ['t2/x', 'bb'],
      ],
      'tmp',
    );
    const tmpBefore = await storage.usage({ prefix: '', storageType: 'tmp' });
    assert.deepEqual(await storage.deletePrefix('', { storageType: 'tmp', all: true }), {
      deleted: tmpBefore.objects,
      bytes: tmpBefore.bytes,
    });
    assert.deepEqual(await storage.list('', 'tmp'), []);
    assert.ok(await storage.exists('dpx'), 'other types untouched');
  });

  test('deleteMany reports each key in order, and splits more than 1000 keys into requests', async () => {
    await setAll(['dm/a', 'dm/b'].map((key) => [key, 'xyz'] as const));
    const result = await storage.deleteMany(['dm/a', 'dm/missing', 'dm/b', '']);
    assert.equal(result.deleted, 2);
    assert.equal(result.bytes, 6);
    assert.deepEqual(
      result.results.map((item) => (item.deleted ? [item.key, true] : [item.key, item.code])),
      [
        ['dm/a', true],
        ['dm/missing', 'NoSuchKey'],
        ['dm/b', true],
        ['', 'InvalidKey'],
      ],
    );
    assert.deepEqual(await storage.deleteMany([]), { deleted: 0, bytes: 0, results: [] });

    const keys = Array.from({ length: 1005 }, (_, i) => `dm/many/${i}`);
    await setAll(keys.filter((_, i) => i % 2 === 0).map((key) => [key, 'z'] as const));
    const many = await storage.deleteMany(keys);
    assert.equal(many.results.length, 1005);
    assert.deepEqual(
      many.results.map((item) => item.key),
      keys,
    );
    assert.ok(many.results.every((item, i) => item.deleted === (i % 2 === 0)));
    assert.equal(many.deleted, 503);
    assert.equal(many.bytes, 503);
    assert.deepEqual(await storage.list('dm/'), []);
  });

  test('copy: the copy keeps bytes and attributes after its source is deleted; conflicts and If-Match', async () => {
    const written = await storage.set('cp/src.txt', 'original bytes', { contentType: 'text/plain', metadata: { lang: 'Ελληνικά' } });
    const copied = await storage.copy('cp/src.txt', { type: 'result', key: 'cp/dst.txt' });
    assert.deepEqual(copied, { type: 'result', key: 'cp/dst.txt', size: 14, etag: written.etag, sha256: written.sha256 });
    await storage.delete('cp/src.txt');
    assert.equal(await storage.get('cp/dst.txt', 'result'), 'original bytes');
    const info = await storage.info('cp/dst.txt', 'result');
    assert.deepEqual(info.metadata, { lang: 'Ελληνικά' });
    assert.equal(info.contentType, 'text/plain');

    await storage.set('cp/other', 'other');
    await assert.rejects(storage.copy('cp/other', { type: 'result', key: 'cp/dst.txt' }), (error: unknown) => {
      assert.ok(error instanceof ConflictError);
      assert.equal(error.code, 'DestinationExists');
      return true;
    });
    await storage.copy('cp/other', { type: 'result', key: 'cp/dst.txt' }, { overwrite: true });
    assert.equal(await storage.get('cp/dst.txt', 'result'), 'other');
    await assert.rejects(storage.copy('cp/other', 'cp/third', { ifMatch: written.etag }), PreconditionFailedError);
    await assert.rejects(storage.copy('cp/never-was', 'cp/third'), NotFoundError);

    await setAll(['cp/tree/a', 'cp/tree/b/c', 'cp/copy/a'].map((key) => [key, key] as const));
    const tree = await storage.copy({ prefix: 'cp/tree/' }, { prefix: 'cp/copy/' });
    assert.deepEqual(tree, { objects: 1, bytes: 11, skipped: 1, skippedKeys: ['cp/tree/a'] });
    assert.equal(await storage.get('cp/copy/a'), 'cp/copy/a', 'an existing key is skipped');
    assert.equal(await storage.get('cp/copy/b/c'), 'cp/tree/b/c');
  });

  test('move: the destination appears as the source goes', async () => {
    await storage.set('mv/one', 'moving');
    const moved = await storage.move('mv/one', 'mv/two');
    assert.equal(moved.key, 'mv/two');
    assert.equal(await storage.exists('mv/one'), false);
    assert.equal(await storage.get('mv/two'), 'moving');
    await assert.rejects(storage.move('mv/one', 'mv/three'), NotFoundError);

    await setAll(['mv/dir/a', 'mv/dir/b/c'].map((key) => [key, 'abc'] as const));
    const tree = await storage.move({ prefix: 'mv/dir/' }, { type: 'tmp', prefix: 'mv/moved/' });
    assert.deepEqual(tree, { objects: 2, bytes: 6, skipped: 0, skippedKeys: [] });
    assert.deepEqual(await storage.list('mv/dir/'), []);
    assert.deepEqual(await storage.list('mv/moved/', 'tmp'), ['mv/moved/a', 'mv/moved/b/c']);
    await assert.rejects(storage.move({ prefix: 'mv/' } as never, 'mv/key' as never), /from a key to a key, or from a prefix to a prefix/);
  });

  test('a signed URL with a file name downloads as that file', async () => {
    await storage.set('reports/q1.csv', 'a,b\n');
    const url = await storage.getSignedUrl('reports/q1.csv', { filename: 'Q1 résumé.csv' });
    const response = await fetch(url);
    assert.equal(await response.text(), 'a,b\n');
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="Q1 r_sum_.csv"; filename*=UTF-8''Q1%20r%C3%A9sum%C3%A9.csv`,
    );
  });

  test('every new call honours its signal', async () => {
    await storage.set('sig/keep', 'kept');
    const signal = AbortSignal.abort();
    const calls: Array<() => Promise<unknown>> = [
      () => storage.deletePrefix('sig/', { signal }),
      () => storage.deleteMany(['sig/keep'], { signal }),
      () => storage.usage({ prefix: 'sig/', signal }),
      () => storage.usage({ prefix: 'sig/', storageType: 'data', signal }),
      () => storage.copy('sig/keep', 'sig/copy', { signal }),
      () => storage.move('sig/keep', 'sig/moved', { signal }),
      () => storage.list('sig/', { delimiter: '/', signal }),
      async () => {
        for await (const _ of storage.iterList('sig/', { details: true, signal }));
      },
    ];
    for (const call of calls) await assert.rejects(call(), { name: 'AbortError' });
    assert.deepEqual(await storage.list('sig/'), ['sig/keep'], 'nothing was deleted, copied or moved');

    // Cancelled while the request is in flight: a prefix delete of many keys.
    await setAll(Array.from({ length: 2000 }, (_, i) => [`sig/many/${i}`, 'x'] as const));
    const controller = new AbortController();
    const pending = storage.deletePrefix('sig/many/', { signal: controller.signal });
    setImmediate(() => controller.abort());
    await assert.rejects(pending, { name: 'AbortError' });
  });
});
