// Guards the domain's multipart service on its own, without the S3 front: an upload's parts are
// checked and assembled (only the checked parts, in order), a completion sent again gets its
// result, part checksums combine into the object's, and expiry of a completed tmp object is the
// domain's one rule. The S3 suites test the same through the AWS SDK and tools.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { multipartEtag } from '../src/storage/multipart-completion.js';
import type { MultipartService, RequestedPart } from '../src/storage/multipart-service.js';
import { RuleError } from '../src/storage/rule-error.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const noChecksum = { type: () => undefined, value: () => undefined };
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const crc = (bytes: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes) >>> 0);
  return out.toString('base64');
};

function partBody(bytes: Buffer, checksum?: string) {
  return {
    body: Readable.from([bytes]),
    length: bytes.length,
    signal: undefined,
    expectedSha256: undefined,
    digests: () => ({
      md5: md5(bytes),
      checksum: checksum ? { algorithm: 'CRC32', type: 'FULL_OBJECT' as const, value: checksum } : undefined,
    }),
  };
}

async function finished(completion: Awaited<ReturnType<MultipartService['complete']>>) {
  return 'result' in completion ? completion.result : completion.finishing;
}

describe('MultipartService', () => {
  let ts: TestServer;
  let multipart: MultipartService;
  before(async () => {
    ts = await startTestServer();
    multipart = ts.server.context.multipart;
  });
  after(() => ts.close());

  test('completes with exactly the listed parts, and a completion sent again gets the same result', async () => {
    const ref = { tenant: 'alice', type: 'tmp' as const, key: 'assembled' };
    const { uploadId } = await multipart.create(ref, { contentType: 'text/plain', attributes: null, checksum: undefined });
    const upload = await multipart.findUpload(ref, uploadId);
    const first = Buffer.alloc(5 * MiB, 1);
    const second = Buffer.from('tail');
    const p1 = await multipart.uploadPart(upload, ref, 1, partBody(first, crc(first)));
    await multipart.uploadPart(upload, ref, 2, partBody(Buffer.from('not listed')));
    const p3 = await multipart.uploadPart(upload, ref, 3, partBody(second, crc(second)));
    assert.equal(p1.etag, md5(first));
    const parts: RequestedPart[] = [
      { number: 1, etag: p1.etag, checksums: new Map() },
      { number: 3, etag: p3.etag, checksums: new Map() },
    ];
    const request = { parts, condition: async () => undefined, checksum: noChecksum };
    const result = await finished(await multipart.complete(ref, uploadId, request));
    assert.equal(result.etag, multipartEtag([p1.etag, p3.etag]));
    assert.equal(result.bytesWritten, first.length + second.length);
    // Every part carried a CRC32: the object gets the CRC32 of its whole bytes, combined from theirs.
    assert.deepEqual(result.checksum && { type: result.checksum.type, value: result.checksum.value }, {
      type: 'FULL_OBJECT',
      value: crc(Buffer.concat([first, second])),
    });
    const info = await ts.server.context.objects.head(ref);
    assert.equal(info.size, first.length + second.length);
    assert.equal(info.contentType, 'text/plain');
    assert.equal(info.expiresAt, await ts.server.context.objects.expiresAtFor(ref));

    const again = await multipart.complete(ref, uploadId, request);
    assert.ok('result' in again);
    assert.equal(again.result.etag, result.etag);
    assert.equal(again.result.bytesWritten, 0);
    await assert.rejects(multipart.findUpload(ref, uploadId), (error) => error instanceof RuleError && error.code === 'NoSuchUpload');
  });

  test('refuses a part whose ETag does not match, and a small part that is not the last', async () => {
    const ref = { tenant: 'alice', type: 'data' as const, key: 'refused' };
    const { uploadId } = await multipart.create(ref, { contentType: undefined, attributes: null, checksum: undefined });
    const upload = await multipart.findUpload(ref, uploadId);
    const a = await multipart.uploadPart(upload, ref, 1, partBody(Buffer.from('small')));
    const b = await multipart.uploadPart(upload, ref, 2, partBody(Buffer.from('last')));
    const complete = (parts: RequestedPart[]) =>
      multipart.complete(ref, uploadId, { parts, condition: async () => undefined, checksum: noChecksum });
    await assert.rejects(complete([{ number: 1, etag: 'f'.repeat(32), checksums: new Map() }]), { code: 'InvalidPart' });
    await assert.rejects(
      complete([
        { number: 1, etag: a.etag, checksums: new Map() },
        { number: 2, etag: b.etag, checksums: new Map() },
      ]),
      { code: 'EntityTooSmall' },
    );
    const page = await multipart.listParts(ref, uploadId, { marker: 0, max: 1 });
    assert.deepEqual(
      page.parts.map((part) => part.number),
      [1],
    );
    assert.equal(page.truncated, true);
    assert.equal(page.nextMarker, 1);
    const uploads = await multipart.listUploads('alice', 'data', {
      prefix: 'ref',
      delimiter: undefined,
      maxUploads: 10,
      keyMarker: '',
      uploadIdMarker: '',
    });
    assert.deepEqual(
      uploads.uploads.map((listed) => [listed.key, listed.uploadId]),
      [['refused', uploadId]],
    );
    await multipart.abort(ref, uploadId);
    await assert.rejects(multipart.listParts(ref, uploadId, { marker: 0, max: 10 }), { code: 'NoSuchUpload' });
  });
});
