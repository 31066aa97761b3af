// The universal client in Chromium, reading a value the server offloads to its object store (a 307
// to a presigned URL, docs/deploy.md "Read offload"). A page cannot see a redirect: fetch with
// `redirect: 'manual'` gives it an opaque answer. The client then asks again and lets the browser
// follow; the bytes come from the store, which gets no credentials (the browser drops
// Authorization on a redirect to another origin), and the store's ETag is not taken for the
// object's: a cut answer is an error there, as docs/deploy.md says, not a resume. Both sides are
// small real servers, as in read-redirects.test.ts; CORS as the page's origin needs it.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
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
    return { error: String(error?.message ?? error), errorName: error?.name };
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
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** Ends the store's next answer after that many bytes of the body, once. */
  let cutAt: number | undefined;

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
      const start = range ? Number(range[1]) : 0;
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
    server = await startFaultServer((request, response) => {
      const headers = allow(request, pages.origin);
      if (request.method === 'OPTIONS') return response.writeHead(204, headers).end();
      response.writeHead(307, {
        ...headers,
        location: `${new URL(store.url).origin}/bucket/blobs/0123?X-Amz-Signature=abc`,
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
    await store?.close();
    await pages?.close();
  });

  const read = (key: string, how: 'bytes' | 'stream') =>
    page.evaluate(
      ({ url, key, how }) =>
        (window as unknown as { read(url: string, key: string, how: string): Promise<ReadResult> }).read(url, key, how),
      { url: server.url, key, how },
    );
  const gets = (seen: typeof server.seen) => seen.filter((request) => request.method === 'GET');

  test('the bytes come from the store, which never sees the credentials', async () => {
    server.seen.length = 0;
    store.seen.length = 0;
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
    assert.equal(fetched[0]?.url, '/bucket/blobs/0123?X-Amz-Signature=abc');
    assert.equal(fetched[0]?.headers.authorization, undefined);
  });

  test('a cut answer is a ConnectionError: the object’s ETag is hidden, so no resume on the store’s', async () => {
    server.seen.length = 0;
    store.seen.length = 0;
    cutAt = 200 * 1024;
    const cut = await read('videos/cut.bin', 'stream');
    assert.equal(cut.errorName, 'ConnectionError', `${cut.errorName}: ${cut.error}`);
    // Resuming with If-Match on the store's ETag would be refused as a changed value, and without
    // one could stitch two values together: the client asked for no rest at all.
    assert.deepEqual(
      server.seen.filter((request) => request.headers.range !== undefined || request.headers['if-match'] !== undefined),
      [],
    );
    assert.equal(gets(store.seen).length, 1);
    // Read again, it comes whole.
    assert.deepEqual(await read('videos/cut.bin', 'stream'), { length: value.length, sha256 });
    assert.deepEqual(
      errors.filter((error) => !/ERR_CONTENT_LENGTH_MISMATCH/.test(error)),
      [],
    );
  });
});
