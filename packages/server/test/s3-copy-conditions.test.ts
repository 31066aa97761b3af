// Guards the x-amz-copy-source-if-* conditions of CopyObject and UploadPartCopy (of a whole
// object and of a range) on a real server through the AWS SDK, on whichever deployment the suite
// runs: each condition is decided on the very source the copy takes, so a source replaced while
// the copy runs (held at a pause point between the request and its source) is judged as it is
// then, and never copied when the condition named what it was before.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { PausePoints } from './helpers/pause-points.js';
import { s3ClientOf, s3CodeOf } from './helpers/s3-client.js';
import { etagOf, v1EtagOf } from './helpers/s3-etags.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const HOUR = 3_600_000;

/** The conditions a copy request can carry, as the SDK names them. */
interface CopyConditions {
  CopySourceIfMatch?: string;
  CopySourceIfNoneMatch?: string;
  CopySourceIfModifiedSince?: Date;
  CopySourceIfUnmodifiedSince?: Date;
}

describe('S3 copy-source conditions', () => {
  const pauses = new PausePoints();
  let ts: TestServer;
  let s3: S3Client;

  before(async () => {
    ts = await startTestServer({}, { pause: pauses.point });
    s3 = await s3ClientOf(ts);
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  const put = (Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body }));
  const bytesOf = async (Key: string) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: 'data', Key }));
    return Buffer.from(answer.Body ? await answer.Body.transformToByteArray() : []);
  };

  /**
   * The three ways to copy `source` (40 bytes): CopyObject to `target`, and UploadPartCopy of the
   * whole source or of its bytes 10-29 as part 1 of a new upload of `target`. `copied` gives what
   * the copy stored, undefined when it stored nothing.
   */
  const copyKinds = {
    CopyObject: async (source: string, target: string, conditions: CopyConditions) => ({
      done: s3.send(new CopyObjectCommand({ Bucket: 'data', Key: target, CopySource: `data/${source}`, ...conditions })),
      copied: async () => ((await s3CodeOf(bytesOf(target))) ? undefined : await bytesOf(target)),
      expected: (bytes: Buffer) => bytes,
    }),
    'UploadPartCopy, whole': async (source: string, target: string, conditions: CopyConditions) =>
      uploadPartCopy(source, target, conditions),
    'UploadPartCopy, range': async (source: string, target: string, conditions: CopyConditions) =>
      uploadPartCopy(source, target, conditions, 'bytes=10-29'),
  };
  const uploadPartCopy = async (source: string, target: string, conditions: CopyConditions, CopySourceRange?: string) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: target }));
    return {
      done: s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: target,
          UploadId,
          PartNumber: 1,
          CopySource: `data/${source}`,
          CopySourceRange,
          ...conditions,
        }),
      ),
      // The part's ETag is its MD5 (or, copied whole, the source's ETag): it names the bytes it holds.
      copied: async () => (await s3.send(new ListPartsCommand({ Bucket: 'data', Key: target, UploadId }))).Parts?.[0]?.ETag,
      expected: (bytes: Buffer) => etagOf(CopySourceRange ? bytes.subarray(10, 30) : bytes),
    };
  };

  for (const [kind, start] of Object.entries(copyKinds)) {
    test(`${kind}: each condition met copies, each one not met is 412 PreconditionFailed and copies nothing`, async () => {
      const source = `plain/${kind}`;
      const bytes = randomBytes(40);
      const written = await put(source, bytes);
      const at = ts.clock.now();
      const cases: Array<[CopyConditions, boolean]> = [
        [{ CopySourceIfMatch: written.ETag }, true],
        [{ CopySourceIfMatch: v1EtagOf(bytes) }, true],
        [{ CopySourceIfMatch: '*' }, true],
        [{ CopySourceIfMatch: etagOf('other bytes') }, false],
        [{ CopySourceIfNoneMatch: etagOf('other bytes') }, true],
        [{ CopySourceIfNoneMatch: written.ETag }, false],
        [{ CopySourceIfModifiedSince: new Date(at - HOUR) }, true],
        [{ CopySourceIfModifiedSince: new Date(at + HOUR) }, false],
        [{ CopySourceIfUnmodifiedSince: new Date(at + HOUR) }, true],
        [{ CopySourceIfUnmodifiedSince: new Date(at - HOUR) }, false],
      ];
      for (const [index, [conditions, met]] of cases.entries()) {
        const copy = await start(source, `plain/${kind}-copy-${index}`, conditions);
        const failure = await s3CodeOf(copy.done);
        const what = `${JSON.stringify(conditions)}: ${JSON.stringify(failure)}`;
        if (met) {
          assert.equal(failure, undefined, what);
          assert.deepEqual(await copy.copied(), copy.expected(bytes), what);
        } else {
          assert.deepEqual(failure, { code: 'PreconditionFailed', status: 412 }, what);
          assert.equal(await copy.copied(), undefined, what);
        }
      }
    });

    const raced: Array<[string, (etag: string | undefined, at: number) => CopyConditions]> = [
      ['x-amz-copy-source-if-match', (etag) => ({ CopySourceIfMatch: etag })],
      ['x-amz-copy-source-if-unmodified-since', (_etag, at) => ({ CopySourceIfUnmodifiedSince: new Date(at) })],
    ];
    for (const [header, conditionsOf] of raced) {
      test(`${kind} with ${header} of a source replaced while the copy runs: 412, never the new bytes`, async () => {
        const source = `raced/${kind}-${header}`;
        const original = randomBytes(40);
        const written = await put(source, original);
        const held = pauses.hold('copy.before-copy');
        const copy = await start(source, `${source}-copy`, conditionsOf(written.ETag, ts.clock.now()));
        await held.reached;
        // Replaced later than the condition's second, with other bytes.
        ts.clock.advance(10_000);
        await put(source, randomBytes(40));
        held.release();
        assert.deepEqual(await s3CodeOf(copy.done), { code: 'PreconditionFailed', status: 412 });
        assert.equal(await copy.copied(), undefined);
      });
    }
  }
});
