// Guards the server's origin against the pages users store (headless Chromium, a real server):
// anyone who can store an object can hand out a signed URL to it, which opens without
// credentials on the origin that also serves the web console. An HTML page or an SVG image with
// a script, opened through such a URL, must run no script there (the answer is sandboxed), and
// the console's preview must not turn a stored page into a document of the console's own origin.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { browserSkip, launchBrowser, newPage } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** What a stored script would do with the origin: mark the page, write its storage, call home. */
const payload = (home: string, name: string) =>
  `document.title = 'script ran'; try { localStorage.setItem('stored-page', '${name}'); } catch {} ` +
  `fetch('${home}/${name}', { method: 'POST', mode: 'no-cors' });`;

describe('stored pages run no script on the server origin', { skip: browserSkip }, () => {
  let ts: TestServer;
  let api: ApiClient;
  let browser: Browser;
  let home: http.Server;
  let homeUrl: string;
  /** The paths the stored scripts reached on `home`: none, when they do not run. */
  const calls: string[] = [];

  before(async () => {
    home = http.createServer((request, response) => {
      calls.push(request.url ?? '');
      response.setHeader('access-control-allow-origin', '*');
      response.end();
    });
    await new Promise<void>((resolve) => home.listen(0, '127.0.0.1', resolve));
    homeUrl = `http://127.0.0.1:${(home.address() as AddressInfo).port}`;
    [ts, browser] = await Promise.all([startTestServer(), launchBrowser()]);
    api = apiClient(ts.origin, await ts.token('mallory'));
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
    home?.close();
  });

  const signedUrl = async (key: string) => {
    const response = await api.call('GET', `/data/get_signed_url/${encodeURIComponent(key)}`);
    assert.equal(response.status, 200, response.text);
    return response.text;
  };

  /** Opens `url` in a fresh browser context, then reads the origin's local storage there. */
  const open = async (url: string) => {
    const page = await newPage(browser);
    const response = await page.goto(url);
    // A script fetches after the page has loaded: give it the time to be heard.
    await page.waitForTimeout(300);
    const title = await page.title();
    await page.goto(`${ts.origin}/healthz`);
    const stored = await page.evaluate(() => localStorage.getItem('stored-page'));
    await page.context().close();
    return { status: response?.status(), title, stored };
  };

  test('an HTML page opened through a signed URL shows, but its script does not run', async () => {
    const html = `<!doctype html><html><head><title>stored page</title><script>${payload(homeUrl, 'html')}</script></head><body><p>hello</p></body></html>`;
    assert.equal((await api.put('data', 'page.html', html, { 'content-type': 'text/html' })).status, 200);
    const opened = await open(await signedUrl('page.html'));
    assert.equal(opened.status, 200);
    assert.equal(opened.title, 'stored page', 'the inline script set the title');
    assert.equal(opened.stored, null, "the script wrote the origin's local storage");
    assert.deepEqual(calls, [], 'the script called out');
  });

  test('an SVG image with a script, opened through a signed URL, runs none', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>stored image</title>' +
      `<script>${payload(homeUrl, 'svg')}</script><rect width="10" height="10"/></svg>`;
    assert.equal((await api.put('data', 'image.svg', svg, { 'content-type': 'image/svg+xml' })).status, 200);
    const opened = await open(await signedUrl('image.svg'));
    assert.equal(opened.status, 200);
    assert.notEqual(opened.title, 'script ran');
    assert.equal(opened.stored, null, "the script wrote the origin's local storage");
    assert.deepEqual(calls, [], 'the script called out');
  });

  test("the console's preview of a page named .pdf does not run it as the console", async () => {
    // The page loads a stored script by its signed URL: the console's policy allows scripts of
    // its own origin, so only the preview's handling of the page can stop it.
    const script = 'top.document.title = "script ran"';
    assert.equal((await api.put('data', 'evil.js', script, { 'content-type': 'text/javascript' })).status, 200);
    const html = `<!doctype html><html><head><script src="${await signedUrl('evil.js')}"></script></head><body>report</body></html>`;
    assert.equal((await api.put('data', 'report.pdf', html, { 'content-type': 'text/html' })).status, 200);

    const page = await newPage(browser);
    await page.goto(`${ts.origin}/console/`);
    await page.getByLabel('Token', { exact: true }).fill(await ts.token('mallory'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Preview report.pdf' }).click();
    const frame = page.getByRole('dialog', { name: 'report.pdf' }).locator('iframe');
    await frame.waitFor();
    await page.waitForTimeout(500);
    assert.equal(await page.title(), 'Stowage console', 'the previewed page ran a script as the console');
    await page.context().close();
  });
});
