// The BlobStore contract over both implementations (files in a data directory; an S3 bucket,
// Ceph RGW here, when STOWAGE_TEST_S3_* name one), then what only the S3 store promises: a fast,
// readable failure at open, 503 StorageUnavailable when the store stops answering, the key
// layout, and bodies of the wrong length refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../src/backends/blob-store.js';
import { FileBlobStore } from '../src/backends/fs/file-blob-store.js';
import { S3BlobStore } from '../src/backends/s3/s3-blob-store.js';
import { isStowageError } from '../src/errors.js';
import { blobStoreContract } from './contract/blob-store-contract.js';
import { freshS3Prefix, type S3Prefix, s3Unavailable, testS3Client } from './helpers/s3.js';

const MiB = 1024 * 1024;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

blobStoreContract('files', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-blobs-'));
  const store = await FileBlobStore.open({ dataDir, durability: 'process', disk: { minFreeBytes: 0, ballastBytes: 0 } });
  return {
    store,
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
    async leftovers() {
      const found = await Promise.all(
        ['blobs', 'uploads', 'tmp'].map(async (sub) => (await filesUnder(path.join(dataDir, sub))).map((name) => `${sub}/${name}`)),
      );
      return found.flat();
    },
  };
});

/** Every object and multipart upload under the prefix. */
async function s3Leftovers(client: S3Client, s3: S3Prefix): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${s3.prefix}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) found.push(object.Key ?? '?');
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${s3.prefix}/` }));
  for (const upload of uploads.Uploads ?? []) found.push(`multipart upload of ${upload.Key}`);
  return found;
}

async function openS3(s3: S3Prefix, extra: Partial<Parameters<typeof S3BlobStore.open>[0]> = {}): Promise<S3BlobStore> {
  return S3BlobStore.open({
    bucket: s3.bucket,
    prefix: s3.prefix,
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...extra,
  });
}

blobStoreContract(
  's3',
  async () => {
    const s3 = await freshS3Prefix();
    if (!s3) throw new Error('no S3 test store');
    const store = await openS3(s3);
    const client = testS3Client(s3);
    return {
      store,
      async close() {
        await store.close();
        await s3.drop();
        client.destroy();
      },
      leftovers: () => s3Leftovers(client, s3),
    };
  },
  { skip: s3Unavailable },
);

async function* bodyOf(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

describe('S3BlobStore on a live store', { skip: s3Unavailable }, () => {
  let s3: S3Prefix;
  let client: S3Client;
  let store: BlobStore;
  before(async () => {
    const fresh = await freshS3Prefix();
    if (!fresh) throw new Error('no S3 test store');
    s3 = fresh;
    client = testS3Client(s3);
    store = await openS3(s3);
  });
  after(async () => {
    await store?.close();
    await s3?.drop();
    client?.destroy();
  });

  test('blobs live at {prefix}/blobs/{id}, staged chunks under {prefix}/uploads/{uploadId}/; ids are 32 hex digits', async () => {
    const blobId = store.newBlobId();
    assert.match(blobId, /^[0-9a-f]{32}$/);
    await store.put({ blobId, body: bodyOf(randomBytes(100)), size: 100 });
    const uploadId = randomBytes(16).toString('hex');
    const staging = await store.appendChunk({
      uploadId,
      staging: null,
      offset: 0,
      length: 10,
      last: false,
      partNumber: undefined,
      body: bodyOf(randomBytes(10)),
    });
    const keys = await s3Leftovers(client, s3);
    assert.ok(keys.includes(`${s3.prefix}/blobs/${blobId}`), keys.join(', '));
    assert.ok(
      keys.some((key) => key.startsWith(`${s3.prefix}/uploads/${uploadId}/0-`)),
      keys.join(', '),
    );
    assert.ok(keys.every((key) => !key.includes('//')));
    await store.discardUpload({ uploadId, staging });
    await store.delete(blobId);
    assert.deepEqual(await s3Leftovers(client, s3), []);
  });

  test('an empty prefix puts blobs at blobs/{id}, without a leading slash', async () => {
    const bare = await openS3(s3, { prefix: '' });
    try {
      const blobId = bare.newBlobId();
      await bare.put({ blobId, body: bodyOf(Buffer.from('x')), size: 1 });
      const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `blobs/${blobId}` }));
      assert.deepEqual(
        (page.Contents ?? []).map((object) => object.Key),
        [`blobs/${blobId}`],
      );
      await bare.delete(blobId);
    } finally {
      await bare.close();
    }
  });

  test('a body shorter or longer than its announced size fails the put and leaves nothing', async () => {
    for (const [size, data] of [
      [1001, randomBytes(1000)],
      [999, randomBytes(1000)],
      [20 * MiB, randomBytes(20 * MiB - 1)],
    ] as const) {
      const blobId = store.newBlobId();
      await assert.rejects(store.put({ blobId, body: bodyOf(data), size }), /bytes announced/);
    }
    assert.deepEqual(await s3Leftovers(client, s3), []);
  });

  test('a chunk whose body is not its length fails, staged or as a part, and the upload goes on', async () => {
    const uploadId = randomBytes(16).toString('hex');
    for (const [length, last, partNumber] of [
      [501, false, undefined],
      [501, true, 1],
    ] as const) {
      await assert.rejects(
        store.appendChunk({ uploadId, staging: null, offset: 0, length, last, partNumber, body: bodyOf(randomBytes(500)) }),
        /bytes announced/,
      );
    }
    const data = randomBytes(500);
    const staging = await store.appendChunk({
      uploadId,
      staging: null,
      offset: 0,
      length: 500,
      last: true,
      partNumber: 2,
      body: bodyOf(data),
    });
    const assembled = await store.assemble({ uploadId, staging, size: 500 });
    const read = await store.read({ blobId: assembled.blobId, start: 0, end: 499, size: 500 });
    const chunks: Buffer[] = [];
    for await (const chunk of read) chunks.push(chunk as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data);
    await store.finishUpload({ uploadId, staging: assembled.staging });
    await store.delete(assembled.blobId);
  });

  test('an upload of 0 bytes assembles into an empty blob', async () => {
    const uploadId = randomBytes(16).toString('hex');
    const { blobId, staging } = await store.assemble({ uploadId, staging: null, size: 0 });
    assert.deepEqual(await s3Leftovers(client, s3), [`${s3.prefix}/blobs/${blobId}`]);
    await store.releaseAssembled({ uploadId, blobId, staging });
    assert.deepEqual(await s3Leftovers(client, s3), []);
  });

  test('Ceph RGW refuses a part list that leaves out parts it holds: parts of attempts that lost their session are removed at assembly', async () => {
    const uploadId = randomBytes(16).toString('hex');
    const append = (staging: string | null, offset: number, data: Buffer, last: boolean, partNumber: number | undefined) =>
      store.appendChunk({ uploadId, staging, offset, length: data.length, last, partNumber, body: bodyOf(data) });
    const first = randomBytes(8 * MiB + 1);
    let staging = await append(null, 0, first, false, 1);
    // Two attempts at the next part: the first one's result is never recorded (a newer request took the session).
    await append(staging, first.length, randomBytes(8 * MiB), false, 2);
    const second = randomBytes(8 * MiB);
    staging = await append(staging, first.length, second, false, 3);
    const small = randomBytes(300 * 1024);
    staging = await append(staging, first.length + second.length, small, false, undefined);
    const last = randomBytes(1000);
    await append(staging, first.length + second.length + small.length, randomBytes(1000), true, 4);
    staging = await append(staging, first.length + second.length + small.length, last, true, 5);
    const data = Buffer.concat([first, second, small, last]);
    const assembled = await store.assemble({ uploadId, staging, size: data.length });
    const again = await store.assemble({ uploadId, staging, size: data.length });
    assert.equal(again.blobId, assembled.blobId);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.read({ blobId: assembled.blobId, start: 0, end: data.length - 1, size: data.length }))
      chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data), 'the blob holds the recorded parts only');
    await store.finishUpload({ uploadId, staging: assembled.staging });
    await store.delete(assembled.blobId);
    assert.deepEqual(await s3Leftovers(client, s3), []);
  });

  test('a read whose row size differs from the blob is refused whole', async () => {
    const blobId = store.newBlobId();
    await store.put({ blobId, body: bodyOf(randomBytes(100)), size: 100 });
    await assert.rejects(store.read({ blobId, start: 0, end: 199, size: 200 }), /holds 100 bytes, not 200/);
    await store.delete(blobId);
  });

  test('open fails fast and readably: missing bucket, refused credentials', async () => {
    await assert.rejects(openS3({ ...s3, bucket: `stowage-missing-${randomBytes(4).toString('hex')}` }), (error: Error) => {
      assert.match(error.message, /^bucket stowage-missing-[0-9a-f]+ does not exist at http:\/\/127\.0\.0\.1:\d+$/);
      return true;
    });
    await assert.rejects(
      openS3({ ...s3, secretAccessKey: 'not-the-secret' }),
      /^Error: S3 refused the credentials for bucket stowage-test/,
    );
    await assert.rejects(openS3({ ...s3, accessKeyId: 'NOSUCHKEY0000000000' }), /^Error: S3 refused the credentials/);
  });
});

describe('S3BlobStore when the store does not answer', () => {
  const servers: Server[] = [];
  /** A loopback HTTP server that answers HeadBucket with 200 and everything else with `other`. */
  const fakeStore = async (other: 'hang' | 503 | 'reset'): Promise<string> => {
    const server = createServer((req, res) => {
      if (req.method === 'HEAD' && /^\/bucket\/?$/.test(req.url ?? '')) return res.writeHead(200).end();
      req.resume();
      if (other === 'hang') return;
      if (other === 'reset') return req.socket.destroy();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
  const open = (endpoint: string) =>
    S3BlobStore.open({ bucket: 'bucket', prefix: 'p', endpoint, credentials, timeoutMs: 500, maxAttempts: 2 });
  const unavailable = (error: unknown) => {
    assert.ok(isStowageError(error), String(error));
    assert.equal(error.code, 'StorageUnavailable');
    assert.equal(error.status, 503);
    assert.equal(error.headers?.['retry-after'], '2');
    assert.match(error.message, /^The blob store does not answer: /);
    return true;
  };

  for (const mode of ['hang', 503, 'reset'] as const) {
    test(`a store that ${mode === 'hang' ? 'never answers' : mode === 503 ? 'answers 503' : 'drops connections'}: 503 StorageUnavailable within a bounded time`, async () => {
      const store = await open(await fakeStore(mode));
      try {
        const started = Date.now();
        await assert.rejects(store.read({ blobId: store.newBlobId(), start: 0, end: 9, size: 10 }), unavailable);
        await assert.rejects(store.delete(store.newBlobId()), unavailable);
        await assert.rejects(
          store.sweepOrphans({ knownBlobs: async (ids) => new Set(ids), isUploadOpen: async () => true, now: Date.now(), graceMs: 0 }),
          unavailable,
        );
        await assert.rejects(store.put({ blobId: store.newBlobId(), body: bodyOf(Buffer.from('abc')), size: 3 }), unavailable);
        assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
      } finally {
        await store.close();
      }
    });
  }

  test('open: an endpoint where nothing listens is "cannot reach S3 at ..."', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    const started = Date.now();
    await assert.rejects(open(endpoint), (error: Error) => {
      assert.match(error.message, new RegExp(`^cannot reach S3 at ${endpoint}: `));
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
  });

  test('open: an endpoint that never answers is "cannot reach S3 at ..." within the request timeout', async () => {
    const server = createServer(() => {});
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const started = Date.now();
    await assert.rejects(open(endpoint), new RegExp(`^Error: cannot reach S3 at ${endpoint}`));
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
  });

  /** A store that answers HeadBucket and leaves everything else to `handle`. */
  const storeWith = async (handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> => {
    const server = createServer((req, res) => {
      if (req.method === 'HEAD' && /^\/bucket\/?$/.test(req.url ?? '')) return res.writeHead(200).end();
      handle(req, res);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const timed = async (what: string, operation: () => Promise<unknown>) => {
    const started = Date.now();
    await assert.rejects(operation(), (error: unknown) => {
      assert.ok(isStowageError(error) && error.code === 'StorageUnavailable', String(error));
      assert.match(error.message, /^The blob store does not answer: .* got nothing within 500 ms$/);
      return true;
    });
    const ms = Date.now() - started;
    // One timeout (500 ms), not one per attempt.
    assert.ok(ms >= 400 && ms < 950, `${what}: failed after ${ms} ms`);
  };

  test('a store that stops reading a body, or sending one: 503 within the timeout, once', async () => {
    // Never reads: the body fills the socket's buffers, then waits on the store.
    const stalledWrite = await open(await storeWith(() => {}));
    // Sends the headers and half the bytes, then nothing.
    const stalledRead = await open(
      await storeWith((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-length': 2 * MiB }).write(randomBytes(MiB));
      }),
    );
    try {
      await timed('put', () => stalledWrite.put({ blobId: stalledWrite.newBlobId(), body: bodyOf(randomBytes(16 * MiB)), size: 16 * MiB }));
      await timed('read', async () => {
        const body = await stalledRead.read({ blobId: stalledRead.newBlobId(), start: 0, end: 2 * MiB - 1, size: 2 * MiB });
        for await (const _ of body);
      });
    } finally {
      await stalledWrite.close();
      await stalledRead.close();
    }
  });

  test('checkReady rejects promptly with StorageUnavailable', async () => {
    let answer = true;
    const server = createServer((req, res) => {
      req.resume();
      if (answer) res.writeHead(200).end();
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const store = await open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await store.checkReady();
      answer = false;
      const started = Date.now();
      await assert.rejects(store.checkReady(), (error: unknown) => isStowageError(error) && error.code === 'StorageUnavailable');
      assert.ok(Date.now() - started < 5_000);
    } finally {
      await store.close();
    }
  });
});
