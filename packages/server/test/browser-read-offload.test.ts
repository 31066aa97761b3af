// Chromium reading large objects that the scale-out server offloads to Ceph RGW (a 307 to a
// presigned URL), as docs/deploy.md says it needs the bucket's CORS: the universal client on a page
// of the server's own origin (as the console is), whose redirected request reaches RGW with that
// Origin, and a page of another origin fetching a signed URL, whose request reaches RGW with
// `Origin: null`. (A cut answer's resume is browser-read-redirect.test.ts's, on servers that cut on
// purpose.)
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CORSRule, DeleteBucketCorsCommand, GetBucketCorsCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, collectPageErrors, launchBrowser, newPage } from './helpers/browser.js';
import { deployment } from './helpers/deployment.js';
import { docBlock } from './helpers/doc-blocks.js';
import { startPageServer } from './helpers/page-server.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const UNIVERSAL_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'client', 'src', 'index.ts');
const value = randomBytes(3 * 1024 * 1024);
const sha256 = createHash('sha256').update(value).digest('hex');

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reader</title></head>
<body>
<script type="module">
const hex = (bytes) => [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
/** A signed URL, as a page of any origin fetches it. */
window.fetchSigned = async (url) => {
  try {
    const answer = await fetch(url);
    const bytes = await answer.arrayBuffer();
    return { status: answer.status, length: bytes.byteLength, sha256: hex(await crypto.subtle.digest('SHA-256', bytes)) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
};
window.ready = true;
</script>
</body></html>`;

/** 3 MiB of numbered lines: more than the console previews, so it reads the start (a range). */
const LINES = Buffer.from(Array.from({ length: 98_304 }, (_, i) => `line ${String(i).padStart(6, '0')} of the notes\n`).join(''));

const skip = deployment === 'embedded' ? 'redirects go to an S3 store: scale-out deployment only' : browserSkip;

describe('Chromium: large reads offloaded to Ceph RGW', { skip }, () => {
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let ts: TestServer;
  let store: S3Client;
  let bucket: string;
  /** Where the browser reaches the store. */
  let storeOrigin: string;
  /** The bucket's CORS rules before the test, if any. */
  let earlierCors: CORSRule[] | undefined;
  let browser: Browser;
  let token: string;
  /** The client as a classic script (globalThis.StowageClient), for a page that has its own. */
  let clientScript: string;

  before(async () => {
    const script = await build({
      entryPoints: [UNIVERSAL_ENTRY],
      bundle: true,
      format: 'iife',
      globalName: 'StowageClient',
      platform: 'browser',
      write: false,
    });
    clientScript = `${script.outputFiles[0]?.text ?? ''}\nglobalThis.StowageClient = StowageClient;`;
    pages = await startPageServer({ '/': { type: 'text/html; charset=utf-8', body: PAGE } });
    ts = await startTestServer({ readOffload: { kind: 'redirect', minBytes: 64 * 1024, ttlMs: 60_000 }, corsOrigins: [pages.origin] });
    const { blobs } = ts.server.context.config;
    assert.ok(blobs.kind === 's3');
    bucket = blobs.bucket;
    storeOrigin = new URL(blobs.publicEndpoint ?? blobs.endpoint ?? '').origin;
    store = new S3Client({
      endpoint: blobs.endpoint,
      region: blobs.region,
      forcePathStyle: blobs.forcePathStyle,
      credentials: blobs.credentials,
    });
    // The bucket CORS of docs/deploy.md, as written: any origin (a page's own, or "null" after a
    // redirect from another origin), GET, and the client's headers.
    const cors = JSON.parse(await docBlock('docs/deploy.md', 'redirect-bucket-cors', 'json'));
    // Whatever the bucket had is put back after.
    earlierCors = await store.send(new GetBucketCorsCommand({ Bucket: bucket })).then(
      (found) => found.CORSRules,
      () => undefined,
    );
    await store.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors }));
    token = await ts.token('alice');
    const stored = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/videos%2Fbig.bin', {
      headers: { authorization: `Bearer ${token}` },
      body: value,
    });
    assert.equal(stored.status, 200);
    const text = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/notes%2Fbig.txt', {
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: LINES,
    });
    assert.equal(text.status, 200);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await store
      ?.send(
        earlierCors
          ? new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: earlierCors } })
          : new DeleteBucketCorsCommand({ Bucket: bucket }),
      )
      .catch(() => {});
    store?.destroy();
    await ts?.close();
    await pages?.close();
  });

  /** A page of `origin` with the reading functions: the page server's, or the server's own console with the client added. */
  async function pageAt(origin: string): Promise<{ page: Page; errors: string[] }> {
    const page = await newPage(browser, { timeoutMs: 60_000 });
    const errors = collectPageErrors(page);
    if (origin === pages.origin) {
      await page.goto(`${pages.origin}/`);
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    } else {
      await page.goto(`${ts.origin}/console/`);
      await page.evaluate(clientScript);
    }
    return { page, errors };
  }

  test("the client on a page of the server's origin (the console's): the bytes come from RGW, whole", async () => {
    const { page, errors } = await pageAt(ts.origin);
    try {
      const answers: Array<{ url: string; status: number; authorization: string | undefined }> = [];
      page.on('response', (response) =>
        answers.push({ url: response.url(), status: response.status(), authorization: response.request().headers().authorization }),
      );
      const got = await page.evaluate(
        async ({ url, token }) => {
          const { Auth, Storage } = (globalThis as unknown as { StowageClient: typeof import('../../client/src/index.js') }).StowageClient;
          const storage = new Storage({ url, auth: new Auth({ token, env: {} }) });
          const bytes = await storage.getBytes('videos/big.bin').catch((error: Error) => error);
          if (bytes instanceof Error) return { error: `${bytes.name}: ${bytes.message}` };
          const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
          return { length: bytes.length, sha256: [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('') };
        },
        { url: ts.url, token },
      );
      assert.deepEqual(got, { length: value.length, sha256 }, JSON.stringify(errors));
      assert.ok(
        answers.some((answer) => answer.status === 307 && answer.url.startsWith(ts.origin)),
        'the server redirected',
      );
      const stored = answers.filter((answer) => answer.url.startsWith(storeOrigin));
      assert.deepEqual(
        stored.map((answer) => [answer.status, answer.authorization]),
        [[200, undefined]],
        'RGW answered once, to a request without credentials',
      );
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('the console previews and downloads a large object whose reads go to RGW', async () => {
    const page = await newPage(browser, { timeoutMs: 60_000 });
    const errors = collectPageErrors(page);
    try {
      await page.goto(`${ts.origin}/console/#/data/notes/`);
      await page.getByLabel('Token', { exact: true }).fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Preview big.txt' }).click();
      const dialog = page.getByRole('dialog', { name: 'notes/big.txt' });
      await dialog.getByText('line 000000 of the notes', { exact: false }).waitFor();
      const fromStore: string[] = [];
      page.on('response', (response) => {
        if (response.url().startsWith(storeOrigin)) fromStore.push(`${response.status()}`);
      });
      const download = page.waitForEvent('download');
      await dialog.getByRole('button', { name: /^Download/ }).click();
      const file = await (await download).path();
      const { readFile } = await import('node:fs/promises');
      assert.ok((await readFile(file)).equals(LINES), 'the download is the whole object');
      assert.deepEqual(fromStore, ['200'], 'the download came from RGW');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  test('a page of another origin fetches a signed URL: RGW answers its "null" origin', async () => {
    const signed = await rawRequest(ts.origin, 'GET', '/storage/v1/data/get_signed_url/videos%2Fbig.bin', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(signed.status, 200);
    const { page, errors } = await pageAt(pages.origin);
    try {
      const origins: Array<Promise<string | undefined>> = [];
      page.on('request', (request) => {
        // The headers as sent (Origin among them), not the page's own view of them.
        if (request.url().startsWith(storeOrigin) && request.method() === 'GET')
          origins.push(request.allHeaders().then((all) => all.origin));
      });
      const got = await page.evaluate(
        (url) => (window as unknown as { fetchSigned(url: string): Promise<unknown> }).fetchSigned(url),
        signed.text,
      );
      assert.deepEqual(got, { status: 200, length: value.length, sha256 }, JSON.stringify(errors));
      assert.deepEqual(await Promise.all(origins), ['null']);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
