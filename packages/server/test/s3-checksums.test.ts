// Guards S3's flexible checksums (docs/s3.md, "Checksums") as the current SDKs use them by default,
// on a real server over real sockets, on whichever deployment the suite runs: CRC32, CRC32C,
// CRC64NVME, SHA1 and SHA256 in headers, in aws-chunked trailers and in presigned URLs, checked
// before anything is stored; the checksum stored with the object and returned by PutObject,
// HeadObject/GetObject (x-amz-checksum-mode), UploadPart, ListParts, CompleteMultipartUpload and
// GetObjectAttributes; FULL_OBJECT and COMPOSITE multipart uploads and S3's errors for what they
// refuse; copies keeping the checksum; boto3 with its defaults.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';
import {
  type ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertS3Fails, type S3Failure, s3FailureOf } from './helpers/s3-client.js';
import { boto3Skip, type S3Tools, s3Tools } from './helpers/s3-tools.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;

/** The checksum of `data` as S3 spells it: the big-endian digest in base64. */
async function checksumOf(algorithm: ChecksumAlgorithm, data: Buffer): Promise<string> {
  return (await digestOf(algorithm, data)).toString('base64');
}

async function digestOf(algorithm: ChecksumAlgorithm, data: Buffer): Promise<Buffer> {
  const uint32 = (value: number) => {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(value >>> 0);
    return bytes;
  };
  switch (algorithm) {
    case 'SHA1':
    case 'SHA256':
      return createHash(algorithm.toLowerCase()).update(data).digest();
    case 'CRC32':
      return uint32(crc32(data));
    case 'CRC32C':
      return uint32(new Crc32c().update(data).digest());
    default: {
      const crc = new Crc64Nvme();
      crc.update(data);
      return Buffer.from(await crc.digest());
    }
  }
}

const ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
const field = (algorithm: ChecksumAlgorithm) => `Checksum${algorithm}` as const;

/** What a failed command threw: the S3 error code (the SDK's error name), HTTP status and message. */
async function failure(promise: Promise<unknown>): Promise<S3Failure> {
  const failed = await s3FailureOf(promise);
  assert.ok(failed, 'the command succeeded; an error was expected');
  return failed;
}

const assertFails = assertS3Fails;

/** A command that carries extra headers, added before it is signed (as a client that sends them would). */
function withHeaders<T extends { middlewareStack: { add: (...args: never[]) => void } }>(command: T, headers: Record<string, string>): T {
  (command.middlewareStack as unknown as { add: (m: unknown, o: unknown) => void }).add(
    (next: (args: unknown) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'extraHeaders' },
  );
  return command;
}

describe('S3 flexible checksums', () => {
  let ts: TestServer;
  let s3: S3Client;
  let key: { clientId: string; secret: string };

  before(async () => {
    ts = await startTestServer();
    key = await ts.server.createApiKey('alice');
    // The SDK's defaults: a CRC32 on every upload, checksums validated on GetObject.
    s3 = new S3Client({
      endpoint: `${ts.origin}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
    });
  });
  after(async () => {
    s3?.destroy();
    await ts?.close();
  });

  const head = (Key: string) => s3.send(new HeadObjectCommand({ Bucket: 'data', Key, ChecksumMode: 'ENABLED' }));
  const exists = async (Key: string) =>
    (await failure(s3.send(new HeadObjectCommand({ Bucket: 'data', Key })))).status !== 404 ? assert.fail(`${Key} exists`) : true;

  describe('single writes', () => {
    test("the SDK's default (a CRC32 it computes) is checked, stored, and returned when asked", async () => {
      const body = Buffer.from('checksummed by default');
      const put = await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'default/small', Body: body }));
      const crc = await checksumOf('CRC32', body);
      assert.equal(put.ChecksumCRC32, crc);
      assert.equal(put.ChecksumType, 'FULL_OBJECT');
      const answer = await head('default/small');
      assert.deepEqual([answer.ChecksumCRC32, answer.ChecksumType], [crc, 'FULL_OBJECT']);
      // Without x-amz-checksum-mode, no checksum.
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'default/small' }))).ChecksumCRC32, undefined);
      // GetObject with the mode: the SDK validates the body against it.
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'default/small', ChecksumMode: 'ENABLED' }));
      assert.equal(got.ChecksumCRC32, crc);
      assert.equal(await got.Body?.transformToString(), body.toString());
      // A range is not the object: no checksum comes with it.
      const range = await s3.send(
        new GetObjectCommand({ Bucket: 'data', Key: 'default/small', ChecksumMode: 'ENABLED', Range: 'bytes=0-3' }),
      );
      assert.equal(range.ChecksumCRC32, undefined);
      assert.equal(await range.Body?.transformToString(), 'chec');
    });

    test('a streamed body goes aws-chunked with a trailing checksum; it is checked and stored', async () => {
      const body = randomBytes(2 * MiB + 5);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: 'data',
          Key: 'default/streamed',
          Body: Readable.from([body.subarray(0, MiB), body.subarray(MiB)]),
          ContentLength: body.length,
          ChecksumAlgorithm: 'CRC64NVME',
        }),
      );
      assert.equal(put.ChecksumCRC64NVME, await checksumOf('CRC64NVME', body));
      assert.equal((await head('default/streamed')).ChecksumCRC64NVME, await checksumOf('CRC64NVME', body));
    });

    for (const algorithm of ALGORITHMS) {
      test(`${algorithm}: the SDK's value is accepted and returned; a wrong one is BadDigest and stores nothing`, async () => {
        const body = Buffer.from(`checksummed with ${algorithm}`);
        const put = await s3.send(
          new PutObjectCommand({ Bucket: 'data', Key: `alg/${algorithm}`, Body: body, ChecksumAlgorithm: algorithm }),
        );
        const expected = await checksumOf(algorithm, body);
        assert.equal(put[field(algorithm)], expected);
        assert.equal((await head(`alg/${algorithm}`))[field(algorithm)], expected);
        const wrong = await checksumOf(algorithm, Buffer.from('other bytes'));
        const refused = await assertFails(
          s3.send(
            new PutObjectCommand({
              Bucket: 'data',
              Key: `alg/${algorithm}-bad`,
              Body: body,
              ChecksumAlgorithm: algorithm,
              [field(algorithm)]: wrong,
            }),
          ),
          'BadDigest',
          400,
        );
        assert.match(refused.message, new RegExp(`${algorithm} you specified did not match`));
        await exists(`alg/${algorithm}-bad`);
      });
    }

    test("S3's InvalidRequest: two checksums, a malformed value, an algorithm named without a value", async () => {
      const body = Buffer.from('bad requests');
      const plain = new S3Client({
        endpoint: `${ts.origin}/s3`,
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const send = (headers: Record<string, string>, Key: string) =>
        plain.send(withHeaders(new PutObjectCommand({ Bucket: 'data', Key, Body: body }), headers));
      try {
        const two = await assertFails(
          send(
            { 'x-amz-checksum-crc32': await checksumOf('CRC32', body), 'x-amz-checksum-sha1': await checksumOf('SHA1', body) },
            'bad/two',
          ),
          'InvalidRequest',
          400,
        );
        assert.match(two.message, /Multiple checksum Types are not allowed/);
        await assertFails(send({ 'x-amz-checksum-crc64nvme': 'AAAA' }, 'bad/short'), 'InvalidRequest', 400);
        await assertFails(send({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }, 'bad/none'), 'InvalidRequest', 400);
        await assertFails(send({ 'x-amz-checksum-md5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, 'bad/md5'), 'InvalidRequest', 400);
        for (const Key of ['bad/two', 'bad/short', 'bad/none', 'bad/md5']) await exists(Key);
        // A value given in full by a client that computes none is checked all the same.
        const given = await send({ 'x-amz-checksum-crc64nvme': await checksumOf('CRC64NVME', body) }, 'bad/ok');
        assert.equal(given.ChecksumCRC64NVME, await checksumOf('CRC64NVME', body));
      } finally {
        plain.destroy();
      }
    });

    test('a presigned PUT with a checksum in its query is checked against the bytes', async () => {
      const body = Buffer.from('presigned with a checksum');
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket: 'data', Key: 'presigned/ok', ChecksumCRC64NVME: await checksumOf('CRC64NVME', body) }),
        { expiresIn: 300 },
      );
      assert.match(url, /x-amz-checksum-crc64nvme=/);
      assert.equal((await fetch(url, { method: 'PUT', body })).status, 200);
      assert.equal((await head('presigned/ok')).ChecksumCRC64NVME, await checksumOf('CRC64NVME', body));
      const other = await fetch(url.replace('presigned/ok', 'presigned/ok'), { method: 'PUT', body: Buffer.from('other bytes') });
      assert.equal(other.status, 400);
      assert.match(await other.text(), /<Code>BadDigest<\/Code>/);
    });

    test('DeleteObjects with the SDK default (CRC32) and with CRC64NVME, as pyarrow sends it', async () => {
      for (const [i, algorithm] of [undefined, 'CRC64NVME', 'SHA256'].entries()) {
        await s3.send(new PutObjectCommand({ Bucket: 'data', Key: `del/${i}`, Body: 'x' }));
        const answer = await s3.send(
          new DeleteObjectsCommand({
            Bucket: 'data',
            Delete: { Objects: [{ Key: `del/${i}` }] },
            ...(algorithm ? { ChecksumAlgorithm: algorithm as ChecksumAlgorithm } : {}),
          }),
        );
        assert.deepEqual(
          (answer.Deleted ?? []).map((d) => d.Key),
          [`del/${i}`],
        );
        await exists(`del/${i}`);
      }
    });

    test('CopyObject keeps the checksum, with REPLACE too (the bytes are the same)', async () => {
      const body = Buffer.from('copied with its checksum');
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'copy/src', Body: body, ChecksumAlgorithm: 'SHA256' }));
      const copied = await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy/dst', CopySource: 'data/copy/src' }));
      const sha = await checksumOf('SHA256', body);
      assert.equal(copied.CopyObjectResult?.ChecksumSHA256, sha);
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'data',
          Key: 'copy/dst',
          CopySource: 'data/copy/src',
          MetadataDirective: 'REPLACE',
          Metadata: { a: 'b' },
        }),
      );
      const answer = await head('copy/dst');
      assert.deepEqual([answer.ChecksumSHA256, answer.Metadata?.a], [sha, 'b']);
    });
  });

  describe('multipart uploads', () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_457)];
    const whole = Buffer.concat(parts);

    /** Creates an upload, sends the parts with the algorithm's checksums, and gives what came back. */
    async function uploadParts(Key: string, algorithm: ChecksumAlgorithm, type?: 'FULL_OBJECT' | 'COMPOSITE') {
      const created = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'data', Key, ChecksumAlgorithm: algorithm, ...(type ? { ChecksumType: type } : {}) }),
      );
      const UploadId = created.UploadId as string;
      const sent = [];
      for (const [i, Body] of parts.entries()) {
        const answer = await s3.send(
          new UploadPartCommand({ Bucket: 'data', Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: algorithm }),
        );
        assert.equal(answer[field(algorithm)], await checksumOf(algorithm, Body), `part ${i + 1}'s checksum`);
        sent.push({ PartNumber: i + 1, ETag: answer.ETag, [field(algorithm)]: answer[field(algorithm)] });
      }
      return { created, UploadId, sent };
    }

    test('COMPOSITE (CRC32, the default type): the checksum of the part checksums, -N; ListParts and GetObjectAttributes', async () => {
      const { created, UploadId, sent } = await uploadParts('mp/composite', 'CRC32');
      assert.deepEqual([created.ChecksumAlgorithm, created.ChecksumType], ['CRC32', 'COMPOSITE']);
      const listed = await s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp/composite', UploadId }));
      assert.deepEqual(
        (listed.Parts ?? []).map((part) => part.ChecksumCRC32),
        sent.map((part) => part.ChecksumCRC32),
      );
      assert.equal(listed.ChecksumAlgorithm, 'CRC32');
      const done = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'mp/composite', UploadId, MultipartUpload: { Parts: sent } }),
      );
      const partDigests = await Promise.all(parts.map((part) => digestOf('CRC32', part)));
      const composite = `${await checksumOf('CRC32', Buffer.concat(partDigests))}-3`;
      assert.deepEqual([done.ChecksumCRC32, done.ChecksumType], [composite, 'COMPOSITE']);
      const answer = await head('mp/composite');
      assert.deepEqual([answer.ChecksumCRC32, answer.ChecksumType], [composite, 'COMPOSITE']);
      // The SDK skips validating a composite checksum on GetObject: the bytes still come whole.
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'mp/composite', ChecksumMode: 'ENABLED' }));
      assert.ok(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())).equals(whole));

      const attributes = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: 'data',
          Key: 'mp/composite',
          ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'],
        }),
      );
      assert.equal(attributes.ObjectSize, whole.length);
      assert.equal(attributes.StorageClass, 'STANDARD');
      assert.equal(`"${attributes.ETag}"`, done.ETag);
      assert.deepEqual(
        [attributes.Checksum?.ChecksumCRC32, attributes.Checksum?.ChecksumType],
        [composite.replace(/-3$/, ''), 'COMPOSITE'],
      );
      assert.equal(attributes.ObjectParts?.TotalPartsCount, 3);
      assert.deepEqual(
        (attributes.ObjectParts?.Parts ?? []).map((part) => [part.PartNumber, part.Size, part.ChecksumCRC32]),
        sent.map((part, i) => [i + 1, parts[i]?.length, part.ChecksumCRC32]),
      );
      const paged = await s3.send(
        new GetObjectAttributesCommand({
          Bucket: 'data',
          Key: 'mp/composite',
          ObjectAttributes: ['ObjectParts'],
          MaxParts: 2,
          PartNumberMarker: 1,
        }),
      );
      assert.deepEqual(
        (paged.ObjectParts?.Parts ?? []).map((part) => part.PartNumber),
        [2, 3],
      );
    });

    for (const algorithm of ['CRC64NVME', 'CRC32', 'CRC32C'] as const) {
      test(`FULL_OBJECT ${algorithm}: the CRC of the whole object, combined from the parts'`, async () => {
        const Key = `mp/full-${algorithm}`;
        const { created, UploadId, sent } = await uploadParts(Key, algorithm, algorithm === 'CRC64NVME' ? undefined : 'FULL_OBJECT');
        assert.equal(created.ChecksumType, 'FULL_OBJECT');
        const expected = await checksumOf(algorithm, whole);
        // The whole object's checksum given with the completion is checked: a wrong one is BadDigest, nothing stored.
        await assertFails(
          s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: 'data',
              Key,
              UploadId,
              MultipartUpload: { Parts: sent },
              ChecksumType: 'FULL_OBJECT',
              [field(algorithm)]: await checksumOf(algorithm, parts[0] as Buffer),
            }),
          ),
          'BadDigest',
          400,
        );
        await exists(Key);
        const done = await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'data',
            Key,
            UploadId,
            MultipartUpload: { Parts: sent },
            ChecksumType: 'FULL_OBJECT',
            [field(algorithm)]: expected,
          }),
        );
        assert.deepEqual([done[field(algorithm)], done.ChecksumType], [expected, 'FULL_OBJECT']);
        // The SDK validates a full-object checksum on GetObject.
        const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key, ChecksumMode: 'ENABLED' }));
        assert.equal(got[field(algorithm)], expected);
        assert.ok(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())).equals(whole));
      });
    }

    test("S3's errors: a type the algorithm does not allow, a part of another algorithm, a part checksum that is not the part's", async () => {
      await assertFails(
        s3.send(
          new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/e', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' }),
        ),
        'InvalidRequest',
        400,
      );
      await assertFails(
        s3.send(
          new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/e', ChecksumAlgorithm: 'CRC64NVME', ChecksumType: 'COMPOSITE' }),
        ),
        'InvalidRequest',
        400,
      );
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/e', ChecksumAlgorithm: 'SHA256' }));
      const mismatch = await assertFails(
        s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/e', UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'CRC32' })),
        'InvalidRequest',
        400,
      );
      assert.match(mismatch.message, /expected checksum Type: sha256, actual checksum Type: crc32/);
      const part = await s3.send(
        new UploadPartCommand({ Bucket: 'data', Key: 'mp/e', UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'SHA256' }),
      );
      await assertFails(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'data',
            Key: 'mp/e',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumSHA256: await checksumOf('SHA256', Buffer.from('y')) }] },
          }),
        ),
        'InvalidPart',
        400,
      );
      const missing = await assertFails(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'data',
            Key: 'mp/e',
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          }),
        ),
        'InvalidRequest',
        400,
      );
      assert.match(missing.message, /must include the checksum for each part/);
      await exists('mp/e');
    });

    test("lib-storage Upload with the SDK's defaults, and UploadPartCopy into a checksummed upload", async () => {
      await new Upload({ client: s3, params: { Bucket: 'data', Key: 'mp/lib', Body: whole }, partSize: 5 * MiB }).done();
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'mp/lib', ChecksumMode: 'ENABLED' }));
      assert.ok(Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array())).equals(whole));

      // A source without the upload's checksum is read to compute it.
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'mp/src', Body: parts[0] as Buffer, ChecksumAlgorithm: 'SHA1' }));
      const { UploadId } = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/copied', ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }),
      );
      const copied = await s3.send(
        new UploadPartCopyCommand({ Bucket: 'data', Key: 'mp/copied', UploadId, PartNumber: 1, CopySource: 'data/mp/src' }),
      );
      assert.equal(copied.CopyPartResult?.ChecksumCRC32C, await checksumOf('CRC32C', parts[0] as Buffer));
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/copied',
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copied.CopyPartResult?.ETag }] },
        }),
      );
      assert.equal(done.ChecksumCRC32C, await checksumOf('CRC32C', parts[0] as Buffer));
    });
  });

  describe('boto3 with its defaults (CRC32 on uploads, validation on downloads)', { skip: boto3Skip }, () => {
    let tools: S3Tools;
    before(async () => {
      tools = await s3Tools({ endpoint: `${ts.origin}/s3`, accessKeyId: key.clientId, secretAccessKey: key.secret });
    });
    after(() => tools?.close());

    test('put_object, upload_fileobj (multipart), get_object with ChecksumMode, delete_objects', async () => {
      const result = await tools.python(`import io, hashlib
small = s3.put_object(Bucket="data", Key="boto3/small", Body=b"hello boto3")
big = bytes(range(256)) * (40 * 4096)  # 10 MiB: upload_fileobj sends parts of 8 MiB
s3.upload_fileobj(io.BytesIO(big), "data", "boto3/big")
got = s3.get_object(Bucket="data", Key="boto3/big", ChecksumMode="ENABLED")
assert got["Body"].read() == big
head = s3.head_object(Bucket="data", Key="boto3/small", ChecksumMode="ENABLED")
deleted = s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "boto3/small"}, {"Key": "boto3/big"}]})
print(json.dumps({"small": small.get("ChecksumCRC32"), "head": head.get("ChecksumCRC32"), "bigType": got.get("ChecksumType"),
                  "deleted": sorted(d["Key"] for d in deleted["Deleted"])}))
`);
      assert.equal(result.code, 0, result.stderr);
      const answer = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
      const crc = await checksumOf('CRC32', Buffer.from('hello boto3'));
      assert.deepEqual(answer, { small: crc, head: crc, bigType: answer.bigType, deleted: ['boto3/big', 'boto3/small'] });
      assert.ok(['FULL_OBJECT', 'COMPOSITE'].includes(answer.bigType), `the multipart object has a checksum: ${answer.bigType}`);
    });
  });
});
