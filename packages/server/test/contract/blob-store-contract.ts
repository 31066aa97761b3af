// The BlobStore contract: every blob store (files in the data directory, an S3 bucket) must pass
// it. Each test opens a store of its own (a fresh directory or bucket prefix), so a sweep sees
// only what that test wrote.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { BlobNotFoundError, type BlobStore, type Staging } from '../../src/backends/blob-store.js';

export interface OpenedBlobStore {
  readonly store: BlobStore;
  close(): Promise<void>;
  /**
   * Everything the store holds that a test could leave behind (blobs, staged bytes, temp files,
   * unfinished multipart uploads), as names for messages; when given, the suite checks that
   * aborted and discarded writes leave nothing.
   */
  leftovers?(): Promise<string[]>;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const TEST_TIMEOUT = 180_000;

/** `data` in pieces of an odd size, as a body of unknown length arrives. */
async function* pieces(data: Buffer, size = 64 * KiB + 3): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, Math.min(at + size, data.length));
}

/**
 * A body that yields `data` and then stalls (a client that stops sending) until `signal` aborts,
 * then throws its reason: the engine's bodies are metered with the request's signal.
 */
async function* stalling(data: Buffer, signal: AbortSignal): AsyncGenerator<Buffer> {
  yield* pieces(data);
  await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readBlob(store: BlobStore, blobId: string, size: number, start = 0, end = size - 1): Promise<Buffer> {
  return readAll(await store.read({ blobId, start, end, size }));
}

async function assertGone(store: BlobStore, blobId: string, size: number): Promise<void> {
  await assert.rejects(
    async () => readBlob(store, blobId, size),
    (error: unknown) => error instanceof BlobNotFoundError && error.blobId === blobId,
  );
}

/** Resumable appends as the engine makes them: part numbers from a counter, only when asked for. */
class UploadDriver {
  staging: Staging = null;
  received = 0;
  private partCounter = 0;
  readonly uploadId = randomBytes(16).toString('hex');

  constructor(private readonly store: BlobStore) {}

  /** Appends `chunk`; returns the staging it produced (already kept unless `record` is false). */
  async append(chunk: Buffer, options: { last: boolean; record?: boolean; signal?: AbortSignal }): Promise<Staging> {
    const { store } = this;
    const needsPart = store.chunkNeedsPart({ staging: this.staging, length: chunk.length, last: options.last });
    const staging = await store.appendChunk({
      uploadId: this.uploadId,
      staging: this.staging,
      offset: this.received,
      length: chunk.length,
      last: options.last,
      partNumber: needsPart ? ++this.partCounter : undefined,
      body: pieces(chunk),
      signal: options.signal,
    });
    if (options.record !== false) {
      this.staging = staging;
      this.received += chunk.length;
      assert.equal(await store.heldBytes({ uploadId: this.uploadId, staging, recorded: this.received }), this.received);
    }
    return staging;
  }

  async appendAll(chunks: Buffer[], options: { lastMarked: boolean }): Promise<void> {
    for (const [i, chunk] of chunks.entries()) await this.append(chunk, { last: options.lastMarked && i === chunks.length - 1 });
  }

  assemble(): Promise<{ blobId: string; staging: Staging }> {
    return this.store.assemble({ uploadId: this.uploadId, staging: this.staging, size: this.received });
  }
}

export function blobStoreContract(name: string, open: () => Promise<OpenedBlobStore>, options: { skip?: string | false } = {}): void {
  const withStore = async (run: (opened: OpenedBlobStore) => Promise<void>) => {
    const opened = await open();
    try {
      await run(opened);
    } finally {
      await opened.close();
    }
  };
  const it = (title: string, run: (opened: OpenedBlobStore) => Promise<void>) =>
    test(title, { timeout: TEST_TIMEOUT }, () => withStore(run));
  const assertNothingLeft = async (opened: OpenedBlobStore, what: string) => {
    if (opened.leftovers) assert.deepEqual(await opened.leftovers(), [], `${what} left something behind`);
  };

  describe(`BlobStore contract: ${name}`, { skip: options.skip ?? false }, () => {
    describe('blobs', () => {
      for (const size of [0, 1000, 3 * MiB + 7, 17 * MiB + 5]) {
        for (const known of [true, false]) {
          it(`put then read ${size} bytes of ${known ? 'known' : 'unknown'} length: whole, first byte, last byte, middle`, async ({
            store,
          }) => {
            const data = randomBytes(size);
            const blobId = store.newBlobId();
            await store.admit(known ? size : undefined);
            await store.put({ blobId, body: pieces(data), size: known ? size : undefined });
            // The engine never reads an empty blob (its row says 0 bytes): only non-empty ones are read.
            if (size > 0) {
              const whole = await readBlob(store, blobId, size);
              assert.equal(whole.length, size);
              assert.equal(sha256(whole), sha256(data));
              assert.deepEqual(await readBlob(store, blobId, size, 0, 0), data.subarray(0, 1));
              assert.deepEqual(await readBlob(store, blobId, size, size - 1, size - 1), data.subarray(size - 1));
              const start = Math.floor(size / 3);
              const end = Math.floor((2 * size) / 3);
              assert.deepEqual(await readBlob(store, blobId, size, start, end), data.subarray(start, end + 1));
            }
            await store.delete(blobId);
          });
        }
      }

      it("blobSize gives a stored blob's size, and undefined for one that is not (or no longer) there", async ({ store }) => {
        const data = randomBytes(5000);
        const blobId = store.newBlobId();
        assert.equal(await store.blobSize(blobId), undefined);
        await store.put({ blobId, body: pieces(data), size: data.length });
        assert.equal(await store.blobSize(blobId), 5000);
        await store.delete(blobId);
        assert.equal(await store.blobSize(blobId), undefined);
      });

      it('newBlobId gives a new id every time', async ({ store }) => {
        const ids = new Set(Array.from({ length: 1000 }, () => store.newBlobId()));
        assert.equal(ids.size, 1000);
      });

      it('delete is idempotent; a read after it rejects with BlobNotFoundError', async (opened) => {
        const { store } = opened;
        const data = randomBytes(5000);
        const blobId = store.newBlobId();
        await store.put({ blobId, body: pieces(data), size: data.length });
        await store.delete(blobId);
        await store.delete(blobId);
        await assertGone(store, blobId, data.length);
        await assertNothingLeft(opened, 'a deleted blob');
      });

      it('a blob that was never stored: read rejects with BlobNotFoundError, delete succeeds', async ({ store }) => {
        const blobId = store.newBlobId();
        await assertGone(store, blobId, 10);
        await store.delete(blobId);
      });

      it('a put whose signal is already aborted stores nothing', async (opened) => {
        const { store } = opened;
        const blobId = store.newBlobId();
        const controller = new AbortController();
        controller.abort();
        await assert.rejects(store.put({ blobId, body: pieces(randomBytes(1000)), size: 1000, signal: controller.signal }));
        await assertGone(store, blobId, 1000);
        await assertNothingLeft(opened, 'an aborted put');
      });

      for (const [label, sent, size] of [
        ['small, known length', 100 * KiB, 200 * KiB],
        ['unknown length, past a first part', 9 * MiB, undefined],
        ['large, known length, past a first part', 9 * MiB, 20 * MiB],
      ] as const) {
        it(`a put aborted mid-body (${label}) rejects promptly and leaves nothing`, async (opened) => {
          const { store } = opened;
          const blobId = store.newBlobId();
          const controller = new AbortController();
          const data = randomBytes(sent);
          let delivered = 0;
          const body = (async function* () {
            for await (const chunk of stalling(data, controller.signal)) {
              delivered += chunk.length;
              yield chunk;
            }
          })();
          const put = store.put({ blobId, body, size, signal: controller.signal });
          const deadline = Date.now() + 60_000;
          while (delivered < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          assert.equal(delivered, sent, 'the store read the body');
          await new Promise((resolve) => setTimeout(resolve, 200));
          controller.abort();
          await assert.rejects(put);
          await assertGone(store, blobId, size ?? sent);
          const removed = await store.sweepOrphans({
            knownBlobs: async () => new Set<string>(),
            isUploadOpen: async () => false,
            now: Date.now(),
            graceMs: 0,
          });
          assert.equal(removed, 0, 'nothing was left for the sweep');
          await assertNothingLeft(opened, 'an aborted put');
        });
      }

      it('admit, relieveSpace and checkReady answer', async ({ store }) => {
        await store.admit(1000);
        await store.admit(undefined);
        assert.equal(typeof (await store.relieveSpace()), 'boolean');
        await store.checkReady();
        assert.ok(store.replacedBlobGraceMs >= 0);
      });
    });

    describe('resumable uploads', () => {
      const gcsChunks = () => [
        randomBytes(256 * KiB),
        randomBytes(512 * KiB),
        randomBytes(5 * MiB),
        randomBytes(8 * MiB),
        randomBytes(1000),
      ];

      it('chunks of 256 KiB, 512 KiB, 5 MiB, 8 MiB and a short last one assemble into a blob of their bytes', async (opened) => {
        const { store } = opened;
        const chunks = gcsChunks();
        const upload = new UploadDriver(store);
        await upload.appendAll(chunks, { lastMarked: true });
        const data = Buffer.concat(chunks);
        const { blobId, staging } = await upload.assemble();
        const stored = await readBlob(store, blobId, data.length);
        assert.equal(sha256(stored), sha256(data));
        assert.deepEqual(await readBlob(store, blobId, data.length, data.length - 10, data.length - 1), data.subarray(data.length - 10));
        await store.finishUpload({ uploadId: upload.uploadId, staging });
        assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data), 'finishUpload keeps the blob');
        await store.delete(blobId);
        await assertNothingLeft(opened, 'a finished upload');
      });

      for (const [label, sizes] of [
        ['small chunks only', [256 * KiB, 256 * KiB, 1000]],
        ['a part, then small chunks', [5 * MiB, 4 * MiB, 256 * KiB, 512 * KiB]],
      ] as const) {
        it(`an upload whose last chunk was not marked last still assembles (${label})`, async (opened) => {
          const { store } = opened;
          const chunks = sizes.map((size) => randomBytes(size));
          const upload = new UploadDriver(store);
          await upload.appendAll(chunks, { lastMarked: false });
          const data = Buffer.concat(chunks);
          const { blobId, staging } = await upload.assemble();
          assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data));
          await store.finishUpload({ uploadId: upload.uploadId, staging });
          await store.delete(blobId);
          await assertNothingLeft(opened, 'a finished upload');
        });
      }

      it('one chunk holding the whole upload', async ({ store }) => {
        const data = randomBytes(300 * KiB);
        const upload = new UploadDriver(store);
        await upload.append(data, { last: true });
        const { blobId, staging } = await upload.assemble();
        assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data));
        await store.finishUpload({ uploadId: upload.uploadId, staging });
        await store.delete(blobId);
      });

      it('a chunk sent again after its first attempt was never recorded', async ({ store }) => {
        const upload = new UploadDriver(store);
        const first = randomBytes(300 * KiB);
        await upload.append(first, { last: false });
        const part = randomBytes(8 * MiB);
        // The first attempt's result is dropped, as when a newer request took the session.
        await upload.append(randomBytes(8 * MiB), { last: false, record: false });
        await upload.append(part, { last: false });
        const small = randomBytes(1000);
        await upload.append(randomBytes(1000), { last: true, record: false });
        await upload.append(small, { last: true });
        const data = Buffer.concat([first, part, small]);
        const { blobId, staging } = await upload.assemble();
        assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data));
        await store.finishUpload({ uploadId: upload.uploadId, staging });
        await store.delete(blobId);
      });

      for (const lastMarked of [true, false]) {
        it(`assemble is idempotent: assembling the same staging again gives the same bytes (last chunk ${lastMarked ? '' : 'not '}marked last)`, async ({
          store,
        }) => {
          const chunks = gcsChunks();
          const upload = new UploadDriver(store);
          await upload.appendAll(chunks, { lastMarked });
          const data = Buffer.concat(chunks);
          const first = await upload.assemble();
          const second = await upload.assemble();
          for (const { blobId } of [first, second]) assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data));
          const third = await store.assemble({ uploadId: upload.uploadId, staging: second.staging, size: data.length });
          assert.equal(sha256(await readBlob(store, third.blobId, data.length)), sha256(data));
          await store.finishUpload({ uploadId: upload.uploadId, staging: third.staging });
          for (const blobId of new Set([first.blobId, second.blobId, third.blobId])) await store.delete(blobId);
        });
      }

      for (const [label, sizes] of [
        ['parts', [256 * KiB, 8 * MiB, 1000]],
        ['staged chunks only', [256 * KiB, 1000]],
      ] as const) {
        it(`releaseAssembled keeps the upload completable (${label})`, async (opened) => {
          const { store } = opened;
          const chunks = sizes.map((size) => randomBytes(size));
          const upload = new UploadDriver(store);
          await upload.appendAll(chunks, { lastMarked: label === 'parts' });
          const data = Buffer.concat(chunks);
          const first = await upload.assemble();
          // The commit that would adopt it failed (e.g. 412): the session stays as it was.
          await store.releaseAssembled({ uploadId: upload.uploadId, blobId: first.blobId, staging: first.staging });
          assert.equal(
            await store.heldBytes({ uploadId: upload.uploadId, staging: upload.staging, recorded: upload.received }),
            data.length,
          );
          const again = await upload.assemble();
          assert.equal(sha256(await readBlob(store, again.blobId, data.length)), sha256(data));
          await store.finishUpload({ uploadId: upload.uploadId, staging: again.staging });
          assert.equal(sha256(await readBlob(store, again.blobId, data.length)), sha256(data));
          await store.delete(again.blobId);
          if (first.blobId !== again.blobId) await store.delete(first.blobId);
          await assertNothingLeft(opened, 'a released then finished upload');
        });
      }

      it('discardUpload removes every staged byte', async (opened) => {
        const { store } = opened;
        const upload = new UploadDriver(store);
        await upload.appendAll([randomBytes(256 * KiB), randomBytes(8 * MiB), randomBytes(512 * KiB)], { lastMarked: false });
        await store.discardUpload({ uploadId: upload.uploadId, staging: upload.staging });
        await store.discardUpload({ uploadId: upload.uploadId, staging: upload.staging });
        const removed = await store.sweepOrphans({
          knownBlobs: async () => new Set<string>(),
          isUploadOpen: async () => false,
          now: Date.now(),
          graceMs: 0,
        });
        assert.equal(removed, 0, 'nothing was left for the sweep');
        await assertNothingLeft(opened, 'a discarded upload');
      });

      it('discardUpload of an upload with nothing staged succeeds', async (opened) => {
        const { store } = opened;
        await store.discardUpload({ uploadId: randomBytes(16).toString('hex'), staging: null });
        await assertNothingLeft(opened, 'an empty discarded upload');
      });

      it('an aborted chunk fails and the upload goes on from where it stood', async ({ store }) => {
        const upload = new UploadDriver(store);
        const first = randomBytes(256 * KiB);
        await upload.append(first, { last: false });
        for (const length of [256 * KiB, 9 * MiB]) {
          const controller = new AbortController();
          const data = randomBytes(length / 2);
          const needsPart = store.chunkNeedsPart({ staging: upload.staging, length, last: false });
          const append = store.appendChunk({
            uploadId: upload.uploadId,
            staging: upload.staging,
            offset: upload.received,
            length,
            last: false,
            partNumber: needsPart ? 100 + length : undefined,
            body: stalling(data, controller.signal),
            signal: controller.signal,
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          controller.abort();
          await assert.rejects(append);
        }
        const rest = randomBytes(8 * MiB + 5);
        await upload.append(rest, { last: true });
        const data = Buffer.concat([first, rest]);
        const { blobId, staging } = await upload.assemble();
        assert.equal(sha256(await readBlob(store, blobId, data.length)), sha256(data));
        await store.finishUpload({ uploadId: upload.uploadId, staging });
        await store.delete(blobId);
      });
    });

    describe('sweepOrphans', () => {
      it('removes an unknown blob past the grace period, keeps a known one and a young one', async ({ store }) => {
        const data = randomBytes(2000);
        const unknown = store.newBlobId();
        const known = store.newBlobId();
        for (const blobId of [unknown, known]) await store.put({ blobId, body: pieces(data), size: data.length });
        const sweep = (now: number) =>
          store.sweepOrphans({
            knownBlobs: async (ids) => new Set(ids.filter((id) => id === known)),
            isUploadOpen: async () => false,
            now,
            graceMs: 3_600_000,
          });
        assert.equal(await sweep(Date.now()), 0, 'young blobs stay, known or not');
        assert.deepEqual(await readBlob(store, unknown, data.length), data);
        assert.equal(await sweep(Date.now() + 2 * 3_600_000), 1);
        await assertGone(store, unknown, data.length);
        assert.deepEqual(await readBlob(store, known, data.length), data);
        assert.equal(await sweep(Date.now() + 2 * 3_600_000), 0, 'a second sweep finds nothing');
        await store.delete(known);
      });

      it('keeps the staged bytes of open uploads and removes those of uploads no longer open', async (opened) => {
        const { store } = opened;
        const open = new UploadDriver(store);
        const closed = new UploadDriver(store);
        const chunks = [randomBytes(256 * KiB), randomBytes(8 * MiB), randomBytes(256 * KiB)];
        await open.appendAll(chunks, { lastMarked: false });
        await closed.appendAll([randomBytes(256 * KiB), randomBytes(8 * MiB), randomBytes(256 * KiB)], { lastMarked: false });
        const isUploadOpen = async (id: string) => id === open.uploadId;
        // The index knows the blobs that open sessions write to (their staging names them).
        const knownBlobs = async (ids: readonly string[]) =>
          new Set(ids.filter((id) => typeof open.staging === 'string' && open.staging.includes(id)));
        await store.sweepOrphans({ knownBlobs, isUploadOpen, now: Date.now(), graceMs: 3_600_000 });
        await store.sweepOrphans({ knownBlobs, isUploadOpen, now: Date.now() + 2 * 3_600_000, graceMs: 3_600_000 });
        const { blobId, staging } = await open.assemble();
        assert.equal(sha256(await readBlob(store, blobId, open.received)), sha256(Buffer.concat(chunks)));
        await store.finishUpload({ uploadId: open.uploadId, staging });
        await store.delete(blobId);
        await assertNothingLeft(opened, 'a sweep of a closed upload');
      });
    });
  });
}
