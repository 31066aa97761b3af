// Guards upload URLs against the defects hostile testing found: signatures forged by shifting
// text between fields (a DELETE that cancelled another tenant's session), a completion that a
// crash left stuck, URLs that stored any number of times, part files that came back shorter
// than their recorded offset and were zero padded, a stalled chunk that blocked its own retry,
// and two servers sharing one data directory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import type http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defineConfig } from '../src/config.js';
import { createServer } from '../src/server.js';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startServerProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytes = (size: number, seed = 1) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed + (i >> 8)) % 251));

/** Upload-URL requests against one server origin. */
function uploadClient(origin: () => string) {
  const put = (url: URL, body: Buffer | string, headers: http.OutgoingHttpHeaders = {}) =>
    rawRequest(origin(), 'PUT', url.pathname + url.search, { headers, body });
  return {
    put,
    chunk: (url: URL, data: Buffer, start: number, total: number | '*') =>
      put(url, data, { 'content-range': `bytes ${start}-${start + data.length - 1}/${total}` }),
    status: (url: URL, total: number | '*' = '*') => put(url, '', { 'content-range': `bytes */${total}` }),
    cancel: (url: URL) => rawRequest(origin(), 'DELETE', url.pathname + url.search),
  };
}

describe('upload URL signatures', () => {
  let ts: TestServer;
  let alice: ReturnType<typeof pythonLikeClient>;
  let bob: ReturnType<typeof pythonLikeClient>;
  const uploads = uploadClient(() => ts.origin);
  before(async () => {
    ts = await startTestServer();
    alice = pythonLikeClient(ts.origin, await ts.token('alice'));
    bob = pythonLikeClient(ts.origin, await ts.token('bob'));
  });
  after(() => ts.close());

  const newUrl = async (client: typeof alice, key: string, query = '') => {
    const response = await client.get(`/data/new_resumable_url/${encodeURIComponent(key)}${query}`);
    return { response, url: new URL(response.text) };
  };

  test("shifting text between signed fields cannot reach another tenant's upload session", async () => {
    const { url: bobsUrl } = await newUrl(bob, 'bobs-upload');
    const bobsId = bobsUrl.searchParams.get('upload_id') ?? '';
    assert.equal((await uploads.chunk(bobsUrl, bytes(1000), 0, '*')).status, 308);

    // The attack: smuggle bob's id into alice's content type behind a NUL, then move text across fields.
    const smuggled = await alice.get(`/data/new_resumable_url/mykey?content_type=${bobsId}%00x`);
    assert.equal(smuggled.status, 400, 'a content type with NUL is refused when the URL is made');
    assert.equal(smuggled.json<{ code: string }>().code, 'InvalidContentType');

    const { url } = await newUrl(alice, 'mykey', '?content_type=text%2Fplain');
    const [expires, id] = [url.searchParams.get('expires') ?? '', url.searchParams.get('upload_id') ?? ''];
    const shifted = [
      { expires: `${expires}\0${id}`, upload_id: bobsId, content_type: 'text/plain' },
      { expires: `${expires}x`, upload_id: id, content_type: 'text/plain' },
      { expires, upload_id: id, content_type: 'text/plain', object_ttl: '60' },
      { expires: `${expires}.0`, upload_id: id, content_type: 'text/plain' },
      { expires: ` ${expires}`, upload_id: id, content_type: 'text/plain' },
      { expires, upload_id: bobsId, content_type: 'text/plain' },
      { expires, upload_id: id, content_type: 'text/plain ' },
    ];
    for (const fields of shifted) {
      const forged = new URL(url);
      for (const [name, value] of Object.entries(fields)) forged.searchParams.set(name, value);
      for (const response of [await uploads.cancel(forged), await uploads.status(forged), await uploads.put(forged, 'x')]) {
        assert.ok(response.status === 403 || response.status === 400, `${JSON.stringify(fields)} → ${response.status}`);
      }
    }
    const duplicated = new URL(`${url}&expires=${expires}`);
    assert.equal((await uploads.status(duplicated)).status, 403, 'a repeated field is refused');

    const bobs = await uploads.status(bobsUrl);
    assert.equal(bobs.status, 308, "bob's session is untouched");
    assert.equal(bobs.headers.range, 'bytes=0-999');
  });

  test('an upload URL stores once: a second whole-body PUT gets the final status and writes nothing', async () => {
    const { url } = await newUrl(alice, 'once.txt');
    const first = await uploads.put(url, 'first body');
    assert.equal(first.status, 200);
    const again = await uploads.put(url, 'second body, longer');
    assert.equal(again.status, 200);
    assert.deepEqual(again.json(), first.json());
    assert.equal((await alice.get('/data/get/once.txt')).text, 'first body');

    const chunked = await uploads.chunk(url, Buffer.from('third'), 0, 5);
    assert.equal(chunked.status, 200, 'a chunk after completion also gets the final status');
    assert.deepEqual(chunked.json(), first.json());
    assert.equal((await alice.get('/data/get/once.txt')).text, 'first body');
  });

  test('a DELETE never reopens an upload URL: after completion it changes nothing, after a cancel the URL is dead', async () => {
    const { url } = await newUrl(alice, 'reopen.txt');
    assert.equal((await uploads.put(url, 'first')).status, 200);
    const cancelDone = await uploads.cancel(url);
    assert.equal(cancelDone.status, 404, 'a completed upload has nothing to cancel');
    const again = await uploads.put(url, 'third write');
    assert.equal(again.status, 200);
    assert.equal(again.json<{ size: number }>().size, 5, 'the final status, not a new write');
    assert.equal((await alice.get('/data/get/reopen.txt')).text, 'first');

    const { url: other } = await newUrl(alice, 'cancelled.bin');
    assert.equal((await uploads.chunk(other, bytes(262_144), 0, '*')).status, 308);
    assert.equal((await uploads.cancel(other)).status, 204);
    assert.equal((await uploads.cancel(other)).status, 404);
    for (const response of [await uploads.put(other, 'whole'), await uploads.chunk(other, bytes(10), 0, 10), await uploads.status(other)]) {
      assert.equal(response.status, 404, response.text);
      assert.equal(response.json<{ code: string }>().code, 'NoSuchUpload');
    }
    assert.equal((await alice.get('/data/get/cancelled.bin')).status, 404);
  });

  test('a tmp upload slower than the tmp lifetime lives its lifetime from completion, not from its first chunk', async () => {
    const own = await startTestServer();
    try {
      const client = () => own.token('alice').then((token) => pythonLikeClient(own.origin, token));
      const ownUploads = uploadClient(() => own.origin);
      const url = new URL((await (await client()).get('/tmp/new_resumable_url/slow-tmp.bin')).text);
      const data = bytes(300_000, 9);
      assert.equal((await ownUploads.chunk(url, data.subarray(0, 262_144), 0, data.length)).status, 308);
      own.clock.advance(30 * 3_600_000); // past the 24 h tmp lifetime, within the URL's 7 days
      assert.equal((await ownUploads.chunk(url, data.subarray(262_144), 262_144, data.length)).status, 200);
      const head = await (await client()).head('/tmp/get/slow-tmp.bin');
      assert.equal(head.status, 200, 'not born expired');
      assert.equal(head.headers['x-stowage-ttl'], String(24 * 3600));
    } finally {
      await own.close();
    }
  });

  test('a whole-body PUT after chunks began is refused with the offset, not stored', async () => {
    const { url } = await newUrl(alice, 'mixed.bin');
    assert.equal((await uploads.chunk(url, bytes(262_144), 0, '*')).status, 308);
    const whole = await uploads.put(url, 'whole');
    assert.equal(whole.status, 409);
    assert.equal(whole.headers.range, 'bytes=0-262143');
    assert.equal((await alice.get('/data/get/mixed.bin')).status, 404);
  });
});

describe('resumable sessions across crashes and restarts', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const newDataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stowage-upload-crash-'));
    dirs.push(dir);
    return dir;
  };

  test('a server killed between linking the blob and the index commit completes on the next PUT or status query', {
    skip: embeddedOnly,
  }, async () => {
    const dataDir = await newDataDir();
    const crashing = await startServerProcess(dataDir, { STOWAGE_FAILPOINTS: 'upload.after-link' });
    let origin = crashing.origin;
    const uploads = uploadClient(() => origin);
    const token = await (async () => {
      const { issueAdminToken } = await import('../src/admin.js');
      return issueAdminToken(defineConfig({ dataDir }), 'alice', 3_600_000);
    })();
    const py = () => pythonLikeClient(origin, token);
    const url = new URL((await py().get('/data/new_resumable_url/crashy.bin')).text);
    const data = bytes(600_000, 7);
    assert.equal((await uploads.chunk(url, data.subarray(0, 262_144), 0, data.length)).status, 308);
    await assert.rejects(uploads.chunk(url, data.subarray(262_144), 262_144, data.length), 'the server dies mid-completion');
    assert.equal(await crashing.exited, 'SIGKILL');

    const restarted = await startServerProcess(dataDir);
    origin = restarted.origin;
    try {
      const resent = await uploads.chunk(url, data.subarray(262_144), 262_144, data.length);
      assert.equal(resent.status, 200, `resending the last chunk finishes the upload: ${resent.text}`);
      assert.equal(resent.json<{ sha256: string }>().sha256, sha256(data));
      const status = await uploads.status(url, data.length);
      assert.equal(status.status, 200, status.text);
      assert.equal(status.json<{ sha256: string }>().sha256, sha256(data));
      const stored = await py().get('/data/get/crashy.bin');
      assert.equal(stored.status, 200);
      assert.equal(sha256(stored.body), sha256(data));
      assert.equal((await uploads.status(url, data.length)).status, 200, 'completion is idempotent');
      assert.deepEqual(await readdir(path.join(dataDir, 'uploads')), [], 'the part file is gone once committed');
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  });

  test('a part file shorter than its recorded offset is reported as the smaller offset, never padded', { skip: embeddedOnly }, async () => {
    const dataDir = await newDataDir();
    let ts = await startTestServer({}, { dataDir });
    const uploads = uploadClient(() => ts.origin);
    const token = await ts.token('alice');
    const url = new URL((await pythonLikeClient(ts.origin, token).get('/data/new_resumable_url/short.bin')).text);
    const data = bytes(786_432, 3);
    assert.equal((await uploads.chunk(url, data.subarray(0, 524_288), 0, data.length)).status, 308);
    await ts.close();

    // What a crash that lost the part's unsynced tail leaves behind.
    await truncate(path.join(dataDir, 'uploads', url.searchParams.get('upload_id') ?? ''), 100_000);
    ts = await startTestServer({}, { dataDir });
    try {
      const status = await uploads.status(url);
      assert.equal(status.status, 308);
      assert.equal(status.headers.range, 'bytes=0-99999', 'the true offset');
      const stale = await uploads.chunk(url, data.subarray(524_288), 524_288, data.length);
      assert.equal(stale.status, 409, 'a chunk past the true offset is refused');
      assert.equal(stale.headers.range, 'bytes=0-99999');
      assert.equal((await uploads.chunk(url, data.subarray(100_000), 100_000, data.length)).status, 200);
      const stored = await pythonLikeClient(ts.origin, token).get('/data/get/short.bin');
      assert.equal(sha256(stored.body), sha256(data), 'the bytes are the ones sent, no zeros');
    } finally {
      await ts.close();
    }
  });

  test('a retried chunk takes over from a stalled one at once', async () => {
    const ts = await startTestServer();
    try {
      const uploads = uploadClient(() => ts.origin);
      const py = pythonLikeClient(ts.origin, await ts.token('alice'));
      const url = new URL((await py.get('/data/new_resumable_url/stalled.bin')).text);
      const data = bytes(524_288, 5);
      // A chunk whose body stops after 100 kB and never resumes.
      const stalled = net.connect(Number(new URL(ts.origin).port), '127.0.0.1');
      let answer = '';
      stalled.on('data', (chunk) => {
        answer += chunk;
      });
      const closed = new Promise((resolve) => stalled.once('close', resolve));
      stalled.on('error', () => {});
      await new Promise((resolve) => stalled.once('connect', resolve));
      stalled.write(
        `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n` +
          `Content-Range: bytes 0-${data.length - 1}/${data.length}\r\n\r\n`,
      );
      stalled.write(data.subarray(0, 100_000));
      await new Promise((resolve) => setTimeout(resolve, 200));

      const retried = await withDeadline(uploads.chunk(url, data, 0, data.length), 10_000, 'the retry waited behind the stalled chunk');
      assert.equal(retried.status, 200, retried.text);
      assert.equal(retried.json<{ sha256: string }>().sha256, sha256(data));
      await withDeadline(closed, 10_000, 'the stalled connection was not closed');
      // A 409 that sends a client seeing it to the status query, as any offset disagreement does.
      assert.match(answer, /^HTTP\/1\.1 409 .*"code":"UploadOffsetMismatch"/s, 'the stalled request is told it was taken over');
    } finally {
      await ts.close();
    }
  });
});

describe('one server per data directory', () => {
  test('a second server on the same data dir fails at once with a clear message, and the first keeps its files', {
    skip: embeddedOnly,
  }, async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-lock-'));
    const first = await startServerProcess(dataDir);
    try {
      const token = await (await import('../src/admin.js')).issueAdminToken(defineConfig({ dataDir }), 'alice', 3_600_000);
      const py = pythonLikeClient(first.origin, token);
      assert.equal((await py.put('/data/set/kept', 'value')).status, 200);

      await assert.rejects(createServer(defineConfig({ dataDir })), /in use by another Stowage process \(pid \d+/);
      await assert.rejects(startServerProcess(dataDir), /in use by another Stowage process/);
      assert.equal((await py.get('/data/get/kept')).text, 'value', 'the first server still serves');
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
    const next = await createServer(defineConfig({ dataDir }));
    await next.close();
    await rm(dataDir, { recursive: true, force: true });
  });
});

async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
