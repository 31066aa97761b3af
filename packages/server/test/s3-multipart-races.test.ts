// Guards CompleteMultipartUpload against the requests that race it (docs/s3.md, "Multipart
// uploads"), on a real server through the AWS SDK, on whichever deployment the suite runs. The
// completion is held between its part checks and its first read (a pause point), so each race is
// played in one order, never left to timing: a part uploaded again meanwhile never puts its bytes
// under the ETag the client listed; a completion whose client left still finishes, and the
// client's retry gets its result; two Completes of one upload answer the one result.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { PausePoints } from './helpers/pause-points.js';
import { s3ClientOf, s3CodeOf } from './helpers/s3-client.js';
import { etagOf, multipartEtagOf } from './helpers/s3-etags.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;

describe('S3 multipart completion raced by other requests', () => {
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

  const uploadPart = async (Key: string, UploadId: string | undefined, PartNumber: number, Body: Buffer): Promise<CompletedPart> => {
    const answer = await s3.send(new UploadPartCommand({ Bucket: 'data', Key, UploadId, PartNumber, Body }));
    assert.equal(answer.ETag, etagOf(Body));
    return { ETag: answer.ETag, PartNumber };
  };
  /** An upload of `parts` under `Key`: its id and the part list a Complete names. */
  const upload = async (Key: string, parts: Buffer[]) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key }));
    const Parts: CompletedPart[] = [];
    for (const [index, part] of parts.entries()) Parts.push(await uploadPart(Key, UploadId, index + 1, part));
    return { UploadId, Parts };
  };
  const complete = (Key: string, UploadId: string | undefined, Parts: CompletedPart[], abortSignal?: AbortSignal) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key, UploadId, MultipartUpload: { Parts } }), { abortSignal });
  const read = async (Key: string) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: 'data', Key }));
    return { etag: answer.ETag, bytes: Buffer.from(answer.Body ? await answer.Body.transformToByteArray() : []) };
  };

  // The part uploaded again is held in the index row (up to 16 KiB) or in a blob of its own.
  for (const size of [100, 64 * 1024]) {
    test(`a part uploaded again while the completion runs (${size} bytes): InvalidPart, never its bytes under the listed ETag`, async () => {
      const Key = `race/replaced-${size}`;
      const first = randomBytes(5 * MiB);
      const listed = randomBytes(size);
      const { UploadId, Parts } = await upload(Key, [first, listed]);
      const held = pauses.hold('multipart.after-check');
      const completing = s3CodeOf(complete(Key, UploadId, Parts));
      await held.reached;
      const other = randomBytes(size);
      const replaced = await uploadPart(Key, UploadId, 2, other);
      held.release();

      // The object would hold `other` under the ETag of `listed`: the completion refuses instead.
      assert.deepEqual(await completing, { code: 'InvalidPart', status: 400 });
      assert.deepEqual(await s3CodeOf(read(Key)), { code: 'NoSuchKey', status: 404 });
      // The upload is still there, with the part as it now is.
      const completed = await complete(Key, UploadId, [Parts[0] as CompletedPart, replaced]);
      assert.equal(completed.ETag, multipartEtagOf([first, other]));
      const stored = await read(Key);
      assert.equal(stored.etag, multipartEtagOf([first, other]));
      assert.ok(stored.bytes.equals(Buffer.concat([first, other])));
    });
  }

  test('a completion whose client left still finishes; the retried Complete gets its result, another part list NoSuchUpload', async () => {
    const Key = 'race/client-left';
    const parts = [randomBytes(5 * MiB), randomBytes(32 * 1024)];
    const { UploadId, Parts } = await upload(Key, parts);
    const held = pauses.hold('multipart.after-check');
    const client = new AbortController();
    const abandoned = s3CodeOf(complete(Key, UploadId, Parts, client.signal));
    await held.reached;
    client.abort();
    assert.equal((await abandoned)?.code, 'AbortError');
    held.release();

    // Nobody hears the completion end: the object appearing is how a client learns of it.
    const deadline = Date.now() + 20_000;
    while ((await s3CodeOf(s3.send(new HeadObjectCommand({ Bucket: 'data', Key })))) !== undefined) {
      assert.ok(Date.now() < deadline, 'the abandoned completion did not finish');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const retried = await complete(Key, UploadId, Parts);
    assert.equal(retried.ETag, multipartEtagOf(parts));
    assert.equal(retried.Key, Key);
    assert.ok((await read(Key)).bytes.equals(Buffer.concat(parts)));
    assert.deepEqual(await s3CodeOf(complete(Key, UploadId, Parts.slice(0, 1))), { code: 'NoSuchUpload', status: 404 });
  });

  test('two Completes of one upload: the one held finds the other done, and both answer the one result', async () => {
    const Key = 'race/twice';
    const parts = [randomBytes(5 * MiB), randomBytes(20 * 1024)];
    const { UploadId, Parts } = await upload(Key, parts);
    const held = pauses.hold('multipart.after-check');
    const first = complete(Key, UploadId, Parts);
    await held.reached;
    const second = await complete(Key, UploadId, Parts);
    assert.equal(second.ETag, multipartEtagOf(parts));
    held.release();
    assert.equal((await first).ETag, multipartEtagOf(parts));
    const stored = await read(Key);
    assert.equal(stored.etag, multipartEtagOf(parts));
    assert.ok(stored.bytes.equals(Buffer.concat(parts)));
  });
});
