// Guards atomic overwrites: many concurrent writers of one key leave exactly one complete value
// (never a mix, never a truncation), readers always see a whole value, and no blob leaks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A value that identifies its writer in every byte, so a mix of two values is detectable. */
const writerValue = (writer: number, size: number) => Buffer.alloc(size, `<${writer}>`);

describe('concurrent overwrites', () => {
  let ts: TestServer;
  let token: string;
  const agent = new Agent({ connections: 64 });
  before(async () => {
    ts = await startTestServer();
    token = await ts.token();
  });
  after(async () => {
    await agent.close();
    await ts.close();
  });

  const put = async (key: string, body: Buffer) => {
    const response = await request(`${ts.url}/data/set/${key}`, {
      method: 'PUT',
      body,
      headers: { authorization: `Bearer ${token}` },
      dispatcher: agent,
    });
    await response.body.dump();
    return response.statusCode;
  };
  const get = async (key: string) => {
    const response = await request(`${ts.url}/data/get/${key}`, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
    return Buffer.from(await response.body.arrayBuffer());
  };
  const isWholeValue = (value: Buffer, writers: number, size: number) => {
    const writer = Number(/^<(\d+)>/.exec(value.subarray(0, 8).toString())?.[1]);
    return writer >= 0 && writer < writers && value.equals(writerValue(writer, size));
  };

  for (const [label, writers, size] of [
    ['1000 small (inline) values', 1000, 1000],
    ['200 large (blob file) values', 200, 200 * 1024],
  ] as const) {
    test(`${label} written at once to one key leave one complete value`, async () => {
      const key = `contended-${size}`;
      const readers: Promise<Buffer>[] = [];
      const statuses = await Promise.all(
        Array.from({ length: writers }, (_, writer) => {
          if (writer % 10 === 0) readers.push(get(key));
          return put(key, writerValue(writer, size));
        }),
      );
      assert.ok(statuses.every((status) => status === 200));
      const final = await get(key);
      assert.ok(isWholeValue(final, writers, size), 'final value is one whole write');
      for (const seen of await Promise.all(readers)) {
        if (seen.length === 0 || seen.subarray(0, 1).toString() === '{') continue; // not written yet: 404 body
        assert.ok(isWholeValue(seen, writers, size), 'a concurrent reader saw a whole value');
      }
      const etag = createHash('sha256').update(final).digest('hex');
      const head = await request(`${ts.url}/data/get/${key}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${token}` },
        dispatcher: agent,
      });
      assert.equal(head.headers.etag, `"${etag}"`);
    });
  }

  test('replaced blobs are removed: one blob file remains for the large key', async () => {
    // A store that keeps replaced blobs a while for reads in flight deletes them on the sweep
    // after that grace; files go at once.
    ts.clock.advance(3_600_000);
    await ts.server.context.objects.sweep();
    let files = 0;
    for (let i = 0; i < 100; i++) {
      files = (await ts.files()).blobs.length;
      if (files === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(files, 1);
  });
});
