// Guards cross-origin uploads from a browser (docs/protocol.md#cors, docs/s3.md#cors): a page in
// headless Chromium, served from another origin than the server's, picks a file and uploads it
// through a v1 resumable upload URL (chunks, reading Range from each 308) allowed by
// STOWAGE_CORS_ORIGINS, and through an S3 presigned PUT allowed by the bucket's CORS rules, then
// reads both back cross-origin (a signed download URL, a presigned GET). The objects are checked
// through storage API v1. Without the CORS answers Chromium would keep every answer from the page.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutBucketCorsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, collectPageErrors, launchBrowser, newPage } from './helpers/browser.js';
import { startPageServer } from './helpers/page-server.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const KiB = 1024;
/** Three chunks of 256 KiB and a tail: the resumable upload crosses several 308s. */
const FILE_SIZE = 3 * 256 * KiB + 1234;
const CHUNK_SIZE = 256 * KiB;

/**
 * The other origin's page: a file input and the two uploads a web app would run. Each returns
 * what the page could read of the answers, so a CORS header missing shows as a failure there.
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Uploader</title></head>
<body>
<input id="file" type="file" aria-label="File to upload">
<script>
async function bytesOf(response) {
  return new Uint8Array(await response.arrayBuffer());
}
function same(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
/** The GCS resumable protocol over an upload URL: one PUT per chunk, each 308 saying what is stored. */
window.uploadResumable = async (uploadUrl, chunkSize) => {
  const file = document.getElementById('file').files[0];
  const ranges = [];
  let answer;
  for (let start = 0; start < file.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, file.size) - 1;
    answer = await fetch(uploadUrl, {
      method: 'PUT',
      headers: { 'Content-Range': 'bytes ' + start + '-' + end + '/' + file.size },
      body: file.slice(start, end + 1),
    });
    if (answer.status === 308) ranges.push(answer.headers.get('Range'));
    else if (answer.status !== 200) return { error: answer.status + ' ' + (await answer.text()) };
  }
  return { ranges, stored: await answer.json(), etag: answer.headers.get('ETag') };
};
/** Whether a cross-origin GET gives the bytes of the chosen file. */
window.readsBack = async (url) => {
  const file = document.getElementById('file').files[0];
  return same(await bytesOf(await fetch(url)), new Uint8Array(await file.arrayBuffer()));
};
/** An S3 presigned PUT of the whole file, then its presigned GET. */
window.uploadPresigned = async (putUrl, getUrl) => {
  const file = document.getElementById('file').files[0];
  const answer = await fetch(putUrl, { method: 'PUT', body: file });
  if (answer.status !== 200) return { error: answer.status + ' ' + (await answer.text()) };
  return { etag: answer.headers.get('ETag'), readBack: await window.readsBack(getUrl) };
};
</script>
</body></html>`;

describe('a page on another origin uploads through upload URLs and S3 presigned PUTs (Chromium)', { skip: browserSkip }, () => {
  let pages: Awaited<ReturnType<typeof startPageServer>>;
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let token: string;
  let s3: S3Client;
  let fileDir: string;
  let file: Buffer;

  before(async () => {
    pages = await startPageServer({ '/': { type: 'text/html; charset=utf-8', body: PAGE } });
    ts = await startTestServer({ corsOrigins: [pages.origin] });
    token = await ts.token('alice');
    const key = await ts.server.createApiKey('alice');
    s3 = new S3Client({
      endpoint: `${ts.origin}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
      // A presigned PUT without a checksum of its own in the query: the page sends whatever file it has.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    file = randomBytes(FILE_SIZE);
    fileDir = await mkdtemp(path.join(tmpdir(), 'stowage-cors-'));
    await writeFile(path.join(fileDir, 'scan.bin'), file);
    browser = await launchBrowser();
    page = await newPage(browser);
    errors = collectPageErrors(page);
    await page.goto(`${pages.origin}/`);
    await page.setInputFiles('#file', path.join(fileDir, 'scan.bin'));
  });
  after(async () => {
    await browser?.close();
    s3?.destroy();
    await ts?.close();
    await pages?.close();
    if (fileDir) await rm(fileDir, { recursive: true, force: true });
  });

  const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const v1Get = (key: string) =>
    rawRequest(ts.origin, 'GET', `/storage/v1/data/get/${key}`, { headers: { authorization: `Bearer ${token}` } });

  test('through a v1 resumable upload URL, allowed by STOWAGE_CORS_ORIGINS', async () => {
    const issued = await rawRequest(ts.origin, 'GET', '/storage/v1/data/new_resumable_url/browser/resumable.bin', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(issued.status, 200, issued.text);
    const result = await page.evaluate(
      ({ uploadUrl, chunkSize }) =>
        (window as unknown as { uploadResumable(url: string, size: number): Promise<Record<string, unknown>> }).uploadResumable(
          uploadUrl,
          chunkSize,
        ),
      { uploadUrl: issued.text, chunkSize: CHUNK_SIZE },
    );
    assert.equal(result.error, undefined, String(result.error));
    assert.deepEqual(result.ranges, ['bytes=0-262143', 'bytes=0-524287', 'bytes=0-786431'], 'the page read Range from every 308');
    assert.equal((result.stored as { sha256: string }).sha256, sha256(file));
    assert.equal(result.etag, `"${sha256(file)}"`);
    const stored = await v1Get('browser/resumable.bin');
    assert.equal(stored.status, 200);
    assert.ok(stored.body.equals(file), 'storage API v1 serves the bytes the page sent');
  });

  test('and reads it back through a signed download URL', async () => {
    const download = await rawRequest(ts.origin, 'GET', '/storage/v1/data/get_signed_url/browser/resumable.bin', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(download.status, 200, download.text);
    const same = await page.evaluate(
      (url) => (window as unknown as { readsBack(url: string): Promise<boolean> }).readsBack(url),
      download.text,
    );
    assert.equal(same, true);
  });

  test('through an S3 presigned PUT, allowed by the bucket CORS rules, and its presigned GET', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'data',
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: [pages.origin], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
        },
      }),
    );
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'browser/presigned.bin' }), { expiresIn: 300 });
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'browser/presigned.bin' }), { expiresIn: 300 });
    const result = await page.evaluate(
      ({ putUrl, getUrl }) =>
        (window as unknown as { uploadPresigned(p: string, g: string): Promise<Record<string, unknown>> }).uploadPresigned(putUrl, getUrl),
      { putUrl, getUrl },
    );
    assert.equal(result.error, undefined, String(result.error));
    assert.equal(result.etag, `"${createHash('md5').update(file).digest('hex')}"`, 'the page read the ETag the rule exposes');
    assert.equal(result.readBack, true);
    const stored = await v1Get('browser/presigned.bin');
    assert.equal(stored.status, 200);
    assert.equal(stored.headers['x-stowage-sha256'], sha256(file));
    assert.ok(stored.body.equals(file));
  });

  test('an origin the rules leave out cannot read the answers', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'data',
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://elsewhere.example'], AllowedMethods: ['PUT', 'GET'] }] },
      }),
    );
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'browser/refused.bin' }), { expiresIn: 300 });
    const outcome = await page.evaluate(async (url) => {
      try {
        await fetch(url, { method: 'PUT', body: 'x' });
        return 'read';
      } catch (error) {
        return (error as Error).name;
      }
    }, putUrl);
    assert.equal(outcome, 'TypeError', 'Chromium keeps the answer from the page');
    assert.equal((await v1Get('browser/refused.bin')).status, 404, 'the refused preflight sent no PUT');
    assert.ok(
      errors.some((message) => /CORS/.test(message)),
      errors.join('\n'),
    );
    assert.deepEqual(
      errors.filter((message) => !/CORS|net::ERR_FAILED/.test(message)),
      [],
      'the page raised nothing else in any test',
    );
  });
});
