// The universal client in a browser: a page on another origin than the server's (CORS through
// STOWAGE_CORS_ORIGINS) loads the client's universal entry, bundled for the browser, and uploads a
// 50 MiB file through an upload URL with uploadBlob. A real TCP proxy cuts the connection twice
// mid-chunk; the upload asks where the server stands and goes on from there instead of starting
// over. Then a second upload is aborted half-way and finished by a new uploadBlob on the same URL.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, collectPageErrors, launchBrowser, newPage } from '../../server/test/helpers/browser.js';
import { type Route, startPageServer } from '../../server/test/helpers/page-server.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, Storage } from '../src/node/index.js';
import { startCuttingProxy } from './cutting-proxy.js';

const MiB = 1024 * 1024;
const FILE_SIZE = 50 * MiB;
const CHUNK_SIZE = 8 * MiB;
const UNIVERSAL_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.ts');

/** What the page's upload reports back: the stored object, or the error, and every progress report. */
interface PageResult {
  stored?: { key: string; size: number; sha256: string };
  error?: string;
  errorName?: string;
  progress: number[];
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Uploader</title></head>
<body>
<input id="file" type="file" aria-label="File to upload">
<script type="module">
import { Retry, uploadBlob } from '/stowage-client.js';
/** Uploads the chosen file; with abortAt, aborts once the server holds that many bytes. */
window.upload = async (uploadUrl, chunkSize, abortAt) => {
  const file = document.getElementById('file').files[0];
  const progress = [];
  const controller = new AbortController();
  try {
    const stored = await uploadBlob(uploadUrl, file, {
      chunkSize,
      retries: new Retry({ backoffFactor: 0.05, backoffJitter: 0 }),
      signal: controller.signal,
      onProgress: (bytes) => {
        progress.push(bytes);
        if (abortAt !== undefined && bytes >= abortAt) controller.abort();
      },
    });
    return { stored, progress };
  } catch (error) {
    return { error: String(error?.message ?? error), errorName: error?.name, progress };
  }
};
window.ready = true;
</script>
</body></html>`;

const EXAMPLE = fileURLToPath(new URL('../../../examples/upload-from-browser.mjs', import.meta.url));

/** The README's browser example in a page of its own: the client under its package name, through an import map. */
const EXAMPLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example</title>
<script type="importmap">{ "imports": { "stowage-client": "/stowage-client.js" } }</script></head>
<body>
<input type="file" aria-label="File to upload"> <progress aria-label="Upload progress"></progress>
<script type="module" src="/upload-from-browser.mjs"></script>
</body></html>`;

const isNonDecreasing = (values: number[]) => values.every((value, i) => i === 0 || value >= (values[i - 1] as number));

describe('uploadBlob in Chromium, from another origin, through an upload URL', { skip: browserSkip }, () => {
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let ts: TestServer;
  let storage: Storage;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let fileDir: string;
  let sha256: string;

  before(async () => {
    const bundle = await build({ entryPoints: [UNIVERSAL_ENTRY], bundle: true, format: 'esm', platform: 'browser', write: false });
    // The app's server: it hands out an upload URL for a file name (the example's /api/upload-url).
    const api: Route = async (url) => {
      if (url.pathname !== '/api/upload-url') return undefined;
      const uploadUrl = await storage.getUploadUrl(`uploads/${url.searchParams.get('name')}`);
      return { type: 'application/json', body: JSON.stringify({ uploadUrl }) };
    };
    const files = {
      '/': { type: 'text/html; charset=utf-8', body: PAGE },
      '/example': { type: 'text/html; charset=utf-8', body: EXAMPLE_PAGE },
      '/stowage-client.js': { type: 'text/javascript', body: bundle.outputFiles[0]?.text ?? '' },
      '/upload-from-browser.mjs': { type: 'text/javascript', body: await readFile(EXAMPLE, 'utf8') },
    };
    pages = await startPageServer(files, api);
    ts = await startTestServer({ corsOrigins: [pages.origin] });
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('alice'), env: {} }) });
    const file = randomBytes(FILE_SIZE);
    sha256 = createHash('sha256').update(file).digest('hex');
    fileDir = await mkdtemp(path.join(tmpdir(), 'stowage-browser-upload-'));
    await writeFile(path.join(fileDir, 'video.bin'), file);
    browser = await launchBrowser();
    page = await newPage(browser, { timeoutMs: 120_000 });
    errors = collectPageErrors(page);
    await page.goto(`${pages.origin}/`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    await page.setInputFiles('#file', path.join(fileDir, 'video.bin'));
  });
  after(async () => {
    await browser?.close();
    await storage?.close();
    await ts?.close();
    await pages?.close();
    if (fileDir) await rm(fileDir, { recursive: true, force: true });
  });

  const upload = (uploadUrl: string, abortAt?: number) =>
    page.evaluate(
      ({ uploadUrl, chunkSize, abortAt }) =>
        (window as unknown as { upload(url: string, size: number, abortAt?: number): Promise<PageResult> }).upload(
          uploadUrl,
          chunkSize,
          abortAt,
        ),
      { uploadUrl, chunkSize: CHUNK_SIZE, abortAt },
    );

  test('a connection cut twice mid-upload resumes where the server stands; the stored sha256 matches', async () => {
    const proxy = await startCuttingProxy(ts.url, { upload: [20 * MiB, 37 * MiB] });
    try {
      // The upload URL's signature covers what it stores, not the host: the page reaches the server through the proxy.
      const direct = new URL(await storage.getUploadUrl('videos/cut.bin'));
      const throughProxy = `${new URL(proxy.url).origin}${direct.pathname}${direct.search}`;
      const result = await upload(throughProxy);
      assert.equal(result.error, undefined, `${result.errorName}: ${result.error}`);
      assert.equal(proxy.stats.cuts, 2, 'the proxy cut the upload twice');
      assert.equal(result.stored?.sha256, sha256);
      assert.ok(isNonDecreasing(result.progress), `progress went back, so the upload restarted: ${result.progress}`);
      assert.equal(result.progress.at(-1), FILE_SIZE);
      const info = await storage.info('videos/cut.bin');
      assert.equal(info.sha256, sha256);
      assert.equal(info.size, FILE_SIZE);
    } finally {
      await proxy.close();
    }
  });

  test('an aborted upload stops; a new uploadBlob on the same URL finishes it from where it stopped', async () => {
    const uploadUrl = await storage.getUploadUrl('videos/aborted.bin');
    const aborted = await upload(uploadUrl, 24 * MiB);
    assert.equal(aborted.errorName, 'AbortError', `${aborted.errorName}: ${aborted.error}`);
    assert.equal(await storage.exists('videos/aborted.bin'), false, 'nothing is stored before the last byte');
    const resumed = await upload(uploadUrl);
    assert.equal(resumed.error, undefined, `${resumed.errorName}: ${resumed.error}`);
    assert.equal(resumed.stored?.sha256, sha256);
    assert.ok((resumed.progress[0] as number) >= 24 * MiB, `the second upload started over: ${resumed.progress}`);
    assert.equal((await storage.info('videos/aborted.bin')).sha256, sha256);
    assert.deepEqual(
      errors.filter((error) => error.startsWith('pageerror')),
      [],
    );
  });

  test('the README example (examples/upload-from-browser.mjs) runs as written', async () => {
    const example = await newPage(browser, { timeoutMs: 120_000 });
    const stored = example.waitForEvent('console', { predicate: (message) => message.text().startsWith('stored '), timeout: 120_000 });
    await example.goto(`${pages.origin}/example`);
    await example.getByLabel('File to upload').setInputFiles(path.join(fileDir, 'video.bin'));
    assert.equal((await stored).text(), `stored uploads/video.bin: ${FILE_SIZE} bytes, sha256 ${sha256}`);
    assert.equal(await example.getByLabel('Upload progress').evaluate((bar) => (bar as HTMLProgressElement).value), FILE_SIZE);
    assert.equal((await storage.info('uploads/video.bin')).sha256, sha256);
  });
});

test('the README shows examples/upload-from-browser.mjs verbatim', async () => {
  const [code, readme] = await Promise.all([readFile(EXAMPLE, 'utf8'), readFile(new URL('../../../README.md', import.meta.url), 'utf8')]);
  assert.ok(readme.includes(`\`\`\`js\n${code}\`\`\``), 'README block differs from examples/upload-from-browser.mjs');
});
