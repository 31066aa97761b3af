// The universal client in Chromium, reading a value the server offloads to its object store (a 307
// to a presigned URL, docs/deploy.md "Read offload"). A page cannot see a redirect: fetch with
// `redirect: 'manual'` gives it an opaque answer. The client then asks again and lets the browser
// follow; the bytes come from the store, which gets no credentials (the browser drops
// Authorization on a redirect to another origin), and the store's ETag is not taken for the
// object's. A cut answer resumes at the store URL it came from (the same blob); once that URL no
// longer answers, through the server without an If-Match, and the rest must come from the same
// blob (the store URL's path): from another, the value changed. Both sides are small
// real servers, as in read-redirects.test.ts; CORS as the page's origin needs it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, collectPageErrors, launchBrowser, newPage } from '../../server/test/helpers/browser.js';
import { startPageServer } from '../../server/test/helpers/page-server.js';
import { startFaultServer } from './fault-server.js';

const UNIVERSAL_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.ts');
const value = randomBytes(512 * 1024);
const sha256 = createHash('sha256').update(value).digest('hex');

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reader</title></head>
<body>
<script type="module">
import { Auth, Retry, Storage } from '/stowage-client.js';
const hex = (bytes) => [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
/** Reads key whole (getBytes) or as a resuming stream; answers the bytes' length and sha256, or the error. */
window.read = async (url, key, how) => {
  const storage = new Storage({
    url,
    auth: new Auth({ token: 'secret-token', env: {} }),
    retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }),
  });
  try {
    let bytes;
    if (how === 'bytes') bytes = await storage.getBytes(key);
    else {
      // Read by hand: a Response made of the stream would turn its error into a bare TypeError.
      const reader = (await storage.getStream(key, { resume: true })).getReader();
      const chunks = [];
      for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
      bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    }
    return { length: bytes.length, sha256: hex(await crypto.subtle.digest('SHA-256', bytes)) };
  } catch (error) {
    return { error: String(error?.message ?? error), errorName: error?.name, code: error?.code };
  }
};
window.ready = true;
</script>
</body></html>`;

interface ReadResult {
  length?: number;
  sha256?: string;
  error?: string;
  errorName?: string;
  code?: string;
}

/** The CORS answers a page of `origin` needs, with the headers a preflight asked for. */
function allow(request: http.IncomingMessage, origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'GET, HEAD',
    'access-control-allow-headers': String(request.headers['access-control-request-headers'] ?? ''),
    'access-control-expose-headers': 'etag, content-length, content-range, x-stowage-sha256',
  };
}

describe('client in Chromium: reads redirected to the object store', { skip: browserSkip }, () => {
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let store: Awaited<ReturnType<typeof startFaultServer>>;
  let server: Awaited<ReturnType<typeof startFaultServer>>;
  /** Another of the server's URLs (as https is of http): answers as Stowage does, with the object's ETag and sha256. */
  let moved: Awaited<ReturnType<typeof startFaultServer>>;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** Ends the store's next answer after that many bytes of the body, once. */
  let cutAt: number | undefined;
  /** The blobs the server's redirects name, one per answer; the last one stays. */
  let blobs = ['/bucket/blobs/0123'];
  /** The server answers a Range itself (as Stowage does a rest shorter than it hands off). */
  let servesRanges = false;
  /** The store refuses the next Range with 403, as it does a URL whose signature expired (a fresh one passes). */
  let storeRefusesNextRange = false;
  /** The store answers the next Range with 503 SlowDown (a store busy for a moment; browsers do not retry it). */
  let storeBusyForNextRange = false;
  /** The store answers the next Range with a 206 of the whole value, from byte 0 (a store that got the Range wrong). */
  let storeMisreadsNextRange = false;

  before(async () => {
    const bundle = await build({ entryPoints: [UNIVERSAL_ENTRY], bundle: true, format: 'esm', platform: 'browser', write: false });
    pages = await startPageServer({
      '/': { type: 'text/html; charset=utf-8', body: PAGE },
      '/stowage-client.js': { type: 'text/javascript', body: bundle.outputFiles[0]?.text ?? '' },
    });
    store = await startFaultServer((request, response) => {
      // After a redirect to another origin the request's origin is opaque: "null".
      const headers = allow(request, '*');
      if (request.method === 'OPTIONS') return response.writeHead(204, headers).end();
      const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
      if (range && storeBusyForNextRange) {
        storeBusyForNextRange = false;
        return response.writeHead(503, headers).end('<Error><Code>SlowDown</Code></Error>');
      }
      if (range && storeRefusesNextRange) {
        storeRefusesNextRange = false;
        return response.writeHead(403, headers).end('<Error><Code>AccessDenied</Code></Error>');
      }
      const misread = range !== null && storeMisreadsNextRange;
      storeMisreadsNextRange &&= !misread;
      const start = range && !misread ? Number(range[1]) : 0;
      const body = value.subarray(start);
      response.writeHead(range ? 206 : 200, {
        ...headers,
        'content-length': body.length,
        'content-type': 'application/octet-stream',
        etag: '"store-etag"',
        ...(range && { 'content-range': `bytes ${start}-${value.length - 1}/${value.length}` }),
      });
      const cut = cutAt;
      cutAt = undefined;
      if (cut === undefined) return response.end(body);
      response.write(body.subarray(0, cut), () => setTimeout(() => response.socket?.destroy(), 50));
    });
    moved = await startFaultServer((request, response) => {
      const headers = { ...allow(request, 'null'), 'access-control-allow-credentials': 'false' };
      if (request.method === 'OPTIONS') return response.writeHead(204, headers).end();
      const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
      const start = range ? Number(range[1]) : 0;
      const body = value.subarray(start);
      response.writeHead(range ? 206 : 200, {
        ...headers,
        etag: '"server-etag"',
        'x-stowage-sha256': sha256,
        'content-length': body.length,
        ...(range && { 'content-range': `bytes ${start}-${value.length - 1}/${value.length}` }),
      });
      const cut = cutAt;
      cutAt = undefined;
      if (cut === undefined) return response.end(body);
      response.write(body.subarray(0, cut), () => setTimeout(() => response.socket?.destroy(), 50));
    });
    server = await startFaultServer((request, response) => {
      const headers = allow(request, pages.origin);
      if (request.method === 'OPTIONS') return response.writeHead(204, headers).end();
      if (request.url?.includes('moved')) {
        return response.writeHead(307, { ...headers, location: `${new URL(moved.url).origin}${request.url}`, 'content-length': 0 }).end();
      }
      const range = /^bytes=(\d+)-$/.exec(String(request.headers.range ?? ''));
      if (servesRanges && range) {
        const start = Number(range[1]);
        return response
          .writeHead(206, {
            ...headers,
            etag: '"server-etag"',
            'content-length': value.length - start,
            'content-range': `bytes ${start}-${value.length - 1}/${value.length}`,
          })
          .end(value.subarray(start));
      }
      response.writeHead(307, {
        ...headers,
        location: `${new URL(store.url).origin}${blobs.length > 1 ? blobs.shift() : blobs[0]}?X-Amz-Signature=${randomBytes(4).toString('hex')}`,
        etag: '"server-etag"',
        'x-stowage-sha256': sha256,
        'cache-control': 'no-store',
        'content-length': 0,
      });
      response.end();
    });
    browser = await launchBrowser();
    page = await newPage(browser, { timeoutMs: 30_000 });
    errors = collectPageErrors(page);
    await page.goto(`${pages.origin}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await moved?.close();
    await store?.close();
    await pages?.close();
  });

  // A test that fails part way leaves none of its faults to the next; each counts its own requests.
  afterEach(() => {
    cutAt = undefined;
    servesRanges = false;
    storeRefusesNextRange = false;
    storeBusyForNextRange = false;
    storeMisreadsNextRange = false;
    blobs = ['/bucket/blobs/0123'];
    server.seen.length = 0;
    store.seen.length = 0;
    moved.seen.length = 0;
  });

  const read = (key: string, how: 'bytes' | 'stream') =>
    page.evaluate(
      ({ url, key, how }) =>
        (window as unknown as { read(url: string, key: string, how: string): Promise<ReadResult> }).read(url, key, how),
      { url: server.url, key, how },
    );
  const gets = (seen: typeof server.seen) => seen.filter((request) => request.method === 'GET');
  /** The GETs of `seen` that asked for a rest (a Range). */
  const resumes = (seen: typeof server.seen) => gets(seen).filter((request) => request.headers.range !== undefined);

  test('the bytes come from the store, which never sees the credentials', async () => {
    const result = await read('videos/clip.bin', 'bytes');
    assert.deepEqual(result, { length: value.length, sha256 });
    // Asked twice: the answer the page cannot see, then followed by the browser.
    const asked = gets(server.seen);
    assert.equal(asked.length, 2);
    for (const request of asked) {
      assert.equal(request.url, '/storage/v1/data/get/videos%2Fclip.bin');
      assert.equal(request.headers.authorization, 'Bearer secret-token');
    }
    const fetched = gets(store.seen);
    assert.equal(fetched.length, 1);
    assert.match(fetched[0]?.url ?? '', /^\/bucket\/blobs\/0123\?X-Amz-Signature=[0-9a-f]{8}$/);
    assert.equal(fetched[0]?.headers.authorization, undefined);
  });

  test('a cut answer resumes at the store URL it came from: the same blob, the server not asked again', async () => {
    cutAt = 200 * 1024;
    const result = await read('videos/cut.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    const fetched = gets(store.seen);
    assert.equal(fetched.length, 2, 'the cut answer, then the rest');
    assert.equal(fetched[0]?.headers.range, undefined);
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(String(fetched[1]?.headers.range))?.[1]);
    assert.ok(resumedAt > 0 && resumedAt <= 200 * 1024, `resumed at ${fetched[1]?.headers.range}`);
    assert.equal(fetched[1]?.url, fetched[0]?.url, 'the same signed URL');
    assert.equal(fetched[1]?.headers.authorization, undefined);
    assert.equal(gets(server.seen).length, 2, 'the read, and the redirect the browser followed; no resume');
  });

  test('a rest too short for the server to hand off comes from the store URL all the same', async () => {
    servesRanges = true;
    cutAt = 200 * 1024;
    const result = await read('videos/tail.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    assert.deepEqual(resumes(server.seen), []);
  });

  test('a store busy at the resume is asked again, not the server: a short rest still resumes', async () => {
    servesRanges = true;
    storeBusyForNextRange = true;
    cutAt = 200 * 1024;
    const result = await read('videos/busy.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    assert.equal(storeBusyForNextRange, false, 'the store turned a resume away');
    assert.equal(resumes(store.seen).length, 2);
    assert.deepEqual(resumes(server.seen), []);
  });

  test('a store answer that is not the rest asked for is never stitched on: the server is asked, from the same blob', async () => {
    storeMisreadsNextRange = true;
    cutAt = 200 * 1024;
    const result = await read('videos/misread.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    assert.equal(storeMisreadsNextRange, false, 'the store answered a resume with the wrong bytes');
    assert.ok(resumes(server.seen).length >= 1, 'the resume asked the server again');
  });

  test('once the store URL no longer answers, the rest is asked of the server, without an If-Match, from the same blob', async () => {
    storeRefusesNextRange = true;
    cutAt = 200 * 1024;
    const result = await read('videos/expired.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    assert.equal(storeRefusesNextRange, false, 'the store URL was tried first');
    assert.ok(resumes(server.seen).length >= 1, 'the resume asked the server again');
    // No condition on the store's ETag, which the server would refuse as a changed value.
    for (const request of gets(server.seen)) assert.equal(request.headers['if-match'], undefined);
  });

  test('a rest the server serves itself, once the store URL no longer answers, cannot be told to be the same value: ResumeRefused', async () => {
    servesRanges = true;
    storeRefusesNextRange = true;
    cutAt = 200 * 1024;
    const refused = await read('videos/tail-expired.bin', 'stream');
    assert.equal(refused.code, 'ResumeRefused', `${refused.errorName}: ${refused.error}`);
    assert.match(refused.error ?? '', /came from the server/);
  });

  test("an answer from another of the server's URLs keeps its ETag: the resume is conditional on it, never a blob's", async () => {
    cutAt = 200 * 1024;
    const result = await read('videos/moved.bin', 'stream');
    assert.deepEqual(result, { length: value.length, sha256 });
    const asked = resumes(moved.seen);
    assert.ok(asked.length >= 1, 'the rest was asked again');
    for (const request of asked) assert.equal(request.headers['if-match'], '"server-etag"');
  });

  test('a resume the server sends to another blob is a changed value: PreconditionFailedError', async () => {
    blobs = ['/bucket/blobs/0123', '/bucket/blobs/0123', '/bucket/blobs/4567'];
    storeRefusesNextRange = true;
    cutAt = 200 * 1024;
    const changed = await read('videos/changed.bin', 'stream');
    assert.equal(changed.errorName, 'PreconditionFailedError', `${changed.errorName}: ${changed.error}`);
    assert.deepEqual(
      // The cut answers, and the store's refusals (URLs these tests let expire, a busy store).
      errors.filter((error) => !/ERR_CONTENT_LENGTH_MISMATCH|status of (403|503) /.test(error)),
      [],
    );
  });
});
