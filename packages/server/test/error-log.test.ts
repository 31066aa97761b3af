// Guards the server log against client errors written as server faults: every answer of an S3
// operation Stowage does not implement (501 NotImplemented) was logged at error level with a
// stack trace, burying the real faults. A client's mistake (4xx) or an unsupported feature is
// logged at info without a stack; a real fault (500) is still logged at error with its stack, on
// storage API v1 and on the S3 API alike.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { rawRequest } from './helpers/raw-http.js';
import { s3ClientOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

type Line = Record<string, unknown> & { level: number };
const ERROR = 50;
const INFO = 30;

describe('what the server logs about an error answer', () => {
  const lines: Line[] = [];
  let ts: TestServer;
  let s3: S3Client;
  let auth: { authorization: string };
  before(async () => {
    // The server's own default level: what an operator sees.
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    ts = await startTestServer({}, { logger: pino({ level: 'info' }, stream) });
    s3 = await s3ClientOf(ts);
    auth = { authorization: `Bearer ${await ts.token('alice')}` };
    assert.equal((await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/present', { headers: auth, body: 'here' })).status, 200);
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  /** The lines logged while `action` ran. */
  async function linesOf(action: () => Promise<unknown>): Promise<Line[]> {
    const from = lines.length;
    await action().catch(() => undefined);
    return lines.slice(from);
  }

  function assertNoFault(logged: Line[], code: string): void {
    assert.deepEqual(
      logged.filter((line) => line.level >= ERROR),
      [],
      'nothing at error level',
    );
    assert.doesNotMatch(JSON.stringify(logged), /"stack"/, 'no stack trace');
    assert.ok(
      logged.some((line) => line.level === INFO && line.code === code),
      `one line at info with the code: ${JSON.stringify(logged)}`,
    );
  }

  function assertFault(logged: Line[]): void {
    const faults = logged.filter((line) => line.level === ERROR);
    assert.equal(faults.length, 1, `one line at error level: ${JSON.stringify(logged)}`);
    assert.match(String((faults[0]?.err as { stack?: unknown } | undefined)?.stack), /disk fault/, 'with its stack');
  }

  test('S3: an unsupported operation (501 NotImplemented) is logged at info, without a stack', async () => {
    const logged = await linesOf(async () => {
      const failed = await s3
        .send(new PutBucketTaggingCommand({ Bucket: 'data', Tagging: { TagSet: [{ Key: 'team', Value: 'x' }] } }))
        .catch((error: { name?: string; $metadata?: { httpStatusCode?: number } }) => error);
      assert.equal((failed as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 501);
    });
    assertNoFault(logged, 'NotImplemented');
  });

  test('S3 and v1: a missing key (404) is logged at info, without a stack', async () => {
    assertNoFault(await linesOf(() => s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'missing' }))), 'NoSuchKey');
    const logged = await linesOf(async () => {
      assert.equal((await rawRequest(ts.origin, 'GET', '/storage/v1/data/get/missing', { headers: auth })).status, 404);
    });
    assertNoFault(logged, 'NoSuchKey');
  });

  test('v1 and S3: a real fault (500) is logged at error, with its stack', async () => {
    const objects = ts.server.context.objects;
    const read = objects.read;
    objects.read = async () => {
      throw new Error('disk fault');
    };
    try {
      assertFault(
        await linesOf(async () => {
          assert.equal((await rawRequest(ts.origin, 'GET', '/storage/v1/data/get/present', { headers: auth })).status, 500);
        }),
      );
      assertFault(await linesOf(() => s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'present' }))));
    } finally {
      objects.read = read;
    }
  });
});
