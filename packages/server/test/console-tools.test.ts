// Guards the console's tools end to end in a real headless Chromium against a real server: a page
// load without a 404 (the favicon is served with the console), API keys (a scoped key created,
// its secret shown once and copied, a key that signs in, revoked after a confirmation), the
// first MiB of large text with the preview's Download, Share and Copy key, the share dialog's
// expiry, upload speed and time left, the overwrite questions of uploads, copies and moves, a
// listing error under its own breadcrumb, an expired session that signs in again where it was,
// and a phone's width. Axe checks what is new; screenshots go to test-artifacts/console/.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import {
  axeViolations,
  browserSkip,
  collectPageErrors,
  launchBrowser,
  newPage,
  readClipboard,
  saveScreenshot,
  waitForDownload,
} from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MIB = 1024 * 1024;
const DAY_MS = 24 * 3_600_000;
const LONG_NAME = 'quarterly-revenue-by-region-and-product-line-final-version.csv';

describe('web console: keys, previews, uploads, safety, session, phone', { skip: browserSkip }, () => {
  let ts: TestServer;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let work: string;

  before(async () => {
    ts = await startTestServer();
    api = apiClient(ts.origin, await ts.token('tools-user', DAY_MS));
    browser = await launchBrowser();
    work = await mkdtemp(path.join(tmpdir(), 'stowage-console-tools-'));
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  // A test that fails with a dialog open leaves the next one a page it can use.
  afterEach(async () => {
    for (let tries = 0; tries < 3 && page && (await page.locator('dialog[open]').count()) > 0; tries++) await page.keyboard.press('Escape');
  });

  const signIn = async (token: string) => {
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('tools-user').waitFor();
  };
  const crumbs = () => page.getByRole('navigation', { name: 'Folder path' });
  const openFolder = async (hash: string) => {
    await page.evaluate((fragment) => {
      location.hash = fragment;
    }, hash);
  };

  test('the page loads without a single 404: the favicon is an SVG served with the console', async () => {
    page = await newPage(browser, { clipboardOrigin: ts.origin });
    // Nothing ignored, /favicon.ico included.
    errors = collectPageErrors(page, { ignore: [] });
    const failed: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${ts.origin}/console/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await signIn(await ts.token('tools-user', DAY_MS));
    await page.getByRole('button', { name: 'Deleted items' }).waitFor();
    assert.deepEqual(failed, [], 'no request of the page load failed');
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), 'favicon.svg');
    const icon = await fetch(`${ts.origin}/console/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await icon.text(), /^<svg /);
    assert.deepEqual(errors, []);
  });

  test('API keys: a read-only key limited to a folder, its secret shown once and copied; it signs in; revoked after a confirmation', async () => {
    await page.getByRole('button', { name: 'API keys' }).click();
    const dialog = page.getByRole('dialog', { name: 'API keys' });
    await dialog.getByText('You have no API keys yet.').waitFor();
    await dialog.getByLabel('Key name').fill('nightly report reader');
    await dialog.getByLabel('Limited to a bucket or folder').check();
    await dialog.getByRole('combobox', { name: /^Bucket/ }).selectOption('data');
    await dialog.getByRole('textbox', { name: /^Folder/ }).fill('reports');
    await dialog.getByRole('checkbox', { name: 'Read only' }).check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByText('Copy the secret now: you will not see it again.').waitFor();
    const clientId = await dialog.getByLabel('Client id').inputValue();
    const secret = await dialog.getByLabel('Secret').inputValue();
    assert.match(clientId, /^stw_/);
    assert.ok(secret.length >= 32);
    await dialog.getByRole('button', { name: 'Copy secret' }).click();
    await dialog.getByText('Copied to the clipboard.').waitFor();
    assert.equal(await readClipboard(page), secret);
    assert.deepEqual(await axeViolations(page), [], 'the API keys dialog with a new secret');
    await saveScreenshot(page, 'tools-01-api-key-created');

    const listed = (await api.call('GET', '/keys')).json<{ keys: Array<{ clientId: string; scope: unknown; revokedAt: number | null }> }>();
    assert.deepEqual(
      listed.keys.map(({ clientId: id, scope }) => ({ id, scope })),
      [{ id: clientId, scope: { readOnly: true, bucket: 'data', prefix: 'reports/' } }],
    );
    const row = dialog.getByRole('row').filter({ hasText: clientId });
    await row.getByText('Read only, bucket data, folder reports/').waitFor();
    await row.getByText('Active').waitFor();

    // The secret is shown once: after Done it is nowhere on the page.
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.getByLabel('Key name').waitFor();
    assert.equal(await page.evaluate((text) => document.body.innerHTML.includes(text), secret), false);

    const exchanged = await fetch(`${ts.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, refresh_token: secret, grant_type: 'refresh_token' }),
    });
    assert.equal(exchanged.status, 200, 'the new key gets a token');

    await dialog.getByLabel('Key name').fill('laptop');
    await dialog.getByRole('radio', { name: /^Full/ }).check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByText('Copy the secret now: you will not see it again.').waitFor();
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.getByRole('row').filter({ hasText: 'laptop' }).getByRole('cell', { name: 'Full', exact: true }).waitFor();

    await dialog.getByRole('button', { name: 'Revoke nightly report reader' }).click();
    await dialog.getByRole('heading', { name: 'Revoke nightly report reader?' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Revoke key', 'the confirmation takes the focus');
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText(/^Revoked /).waitFor();
    const afterwards = (await api.call('GET', '/keys')).json<{ keys: Array<{ clientId: string; revokedAt: number | null }> }>();
    assert.notEqual(afterwards.keys.find((key) => key.clientId === clientId)?.revokedAt, null, 'revoked on the server');
    assert.equal(afterwards.keys.find((key) => key.clientId !== clientId)?.revokedAt, null, 'the other key stays');
    const refused = await fetch(`${ts.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: clientId, refresh_token: secret, grant_type: 'refresh_token' }),
    });
    assert.notEqual(refused.status, 200, 'a revoked key gets no token');
    assert.deepEqual(await axeViolations(page), [], 'the API keys dialog');
    await saveScreenshot(page, 'tools-02-api-keys');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('text over 1 MiB shows its first MiB from a range read, with Download, Share (saying when the link expires) and Copy key', async () => {
    const lines = Array.from({ length: 60_000 }, (_, i) => `line ${i}: ${'x'.repeat(40)}`);
    const text = `first line\n${lines.join('\n')}\nTHE END\n`;
    assert.ok(text.length > 2 * MIB);
    await api.put('data', 'big/server.log', text, { 'content-type': 'text/plain' });
    const csv = `city,count\n${Array.from({ length: 80_000 }, (_, i) => `town-${i},${i}`).join('\n')}\n`;
    await api.put('data', 'big/towns.csv', csv, { 'content-type': 'text/csv' });
    const ranges: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/get/big')) ranges.push(request.headers().range ?? 'none');
    });
    await openFolder('#/data/big/');
    await page.getByRole('button', { name: 'Preview server.log' }).click();
    let dialog = page.getByRole('dialog', { name: 'big/server.log' });
    await dialog.getByText(/^Showing the first 1 MiB of \d\.\d MiB/).waitFor();
    await dialog.getByText(/^first line/).waitFor();
    const shown = (await dialog.locator('pre').textContent()) ?? '';
    assert.ok(shown.length <= MIB && shown.length > MIB - 100, `${shown.length} characters shown`);
    assert.ok(!shown.includes('THE END'));
    assert.deepEqual(ranges, [`bytes=0-${MIB - 1}`], 'one range read of the first MiB');
    assert.deepEqual(await axeViolations(page), [], 'a partial preview');
    await saveScreenshot(page, 'tools-03-preview-first-mib');

    await dialog.getByRole('button', { name: 'Copy key' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    assert.equal(await readClipboard(page), 'big/server.log');
    const downloaded = await waitForDownload(page, () => dialog.getByRole('button', { name: 'Download' }).click());
    assert.equal(downloaded.content.length, Buffer.byteLength(text), 'Download gets the whole value');

    await dialog.getByRole('button', { name: 'Share' }).click();
    const share = page.getByRole('dialog', { name: 'Share big/server.log' });
    await share.getByRole('button', { name: 'Create link and copy' }).click();
    await share.getByText(/The link stops working at .* \(in 1 hour\)\./).waitFor();
    const expires = Date.parse((await share.locator('time').getAttribute('datetime')) ?? '');
    assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 10 * 60_000, 'the expiry said is an hour from now');
    const link = await readClipboard(page);
    const opened = await fetch(link);
    assert.equal(opened.status, 200);
    await share.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Preview towns.csv' }).click();
    dialog = page.getByRole('dialog', { name: 'big/towns.csv' });
    await dialog.getByText(/^Showing the first 1 MiB of 1\.\d MiB/).waitFor();
    await dialog.getByRole('columnheader', { name: 'city' }).waitFor();
    await dialog.getByRole('cell', { name: 'town-0', exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('the upload panel shows each upload’s speed and time left, and the overall', async () => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const conditions = { latency: 0, downloadThroughput: -1, offline: false };
    await cdp.send('Network.emulateNetworkConditions', { ...conditions, uploadThroughput: 3 * MIB });
    const file = path.join(work, 'video.bin');
    await writeFile(file, randomBytes(24 * MIB));
    await page.getByLabel('Upload files').setInputFiles(file);
    const item = page.locator('.uploads li[data-key="big/video.bin"]');
    await item
      .locator('.rate')
      .filter({ hasText: /^, [\d.]+ (KiB|MiB)\/s, \d+ (s|min) left$/ })
      .waitFor({ timeout: 30_000 });
    await page
      .locator('.uploads .total .rate')
      .filter({ hasText: /\/s, \d+ (s|min) left/ })
      .waitFor();
    await saveScreenshot(page, 'tools-04-upload-speed');
    await cdp.send('Network.emulateNetworkConditions', { ...conditions, uploadThroughput: -1 });
    await page.locator('.uploads li[data-key="big/video.bin"][data-state="done"]').waitFor({ timeout: 60_000 });
    assert.equal(await item.locator('.rate').count(), 0, 'a finished upload shows no speed');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  test('uploading onto existing keys asks: Keep both, Skip, Replace, and apply to all', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await api.put('data', `drop/${name}.txt`, `old ${name}`);
    const files = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const file = path.join(work, `${name}.txt`);
      await writeFile(file, `new ${name}`);
      files.push(file);
    }
    await openFolder('#/data/drop/');
    await page.getByRole('button', { name: 'Preview a.txt' }).waitFor();
    await page.getByLabel('Upload files').setInputFiles(files);

    let dialog = page.getByRole('dialog', { name: 'drop/a.txt already exists' });
    await dialog.getByText('(1 of 4 files that already exist)').waitFor();
    await dialog.getByText('keep both (the upload becomes a (1).txt)', { exact: false }).waitFor();
    assert.deepEqual(await axeViolations(page), [], 'the overwrite question');
    await saveScreenshot(page, 'tools-05-upload-conflict');
    await dialog.getByRole('button', { name: 'Keep both' }).click();
    dialog = page.getByRole('dialog', { name: 'drop/b.txt already exists' });
    await dialog.getByRole('button', { name: 'Skip' }).click();
    dialog = page.getByRole('dialog', { name: 'drop/c.txt already exists' });
    await dialog.getByLabel('Apply to all 2 files that already exist').check();
    await dialog.getByRole('button', { name: 'Replace' }).click();
    await page.locator('.uploads li[data-state="done"]').nth(3).waitFor();
    await page.getByRole('dialog').waitFor({ state: 'detached' });

    assert.equal(await page.locator('.uploads li').count(), 4, 'b.txt was skipped');
    const stored = async (key: string) => (await api.get('data', key)).text;
    assert.equal(await stored('drop/a.txt'), 'old a', 'Keep both leaves the existing value');
    assert.equal(await stored('drop/a (1).txt'), 'new a', 'and uploads as "a (1).txt"');
    assert.equal(await stored('drop/b.txt'), 'old b', 'Skip');
    assert.equal(await stored('drop/c.txt'), 'new c', 'Replace');
    assert.equal(await stored('drop/d.txt'), 'new d', 'Replace, applied to all');
    assert.equal(await stored('drop/e.txt'), 'new e', 'a new key is not asked about');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  test('copying or moving onto an existing key offers Overwrite instead of failing', async () => {
    await page.getByRole('button', { name: 'Copy e.txt' }).click();
    let dialog = page.getByRole('dialog', { name: 'Copy drop/e.txt' });
    await dialog.getByLabel('New key').fill('drop/b.txt');
    await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
    await dialog.getByRole('heading', { name: 'drop/b.txt already exists in data' }).waitFor();
    assert.equal((await api.get('data', 'drop/b.txt')).text, 'old b', 'nothing was replaced yet');
    assert.deepEqual(await axeViolations(page), [], 'the overwrite offer');
    await saveScreenshot(page, 'tools-06-copy-overwrite');
    await dialog.getByRole('button', { name: 'Overwrite' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await api.get('data', 'drop/b.txt')).text, 'new e');

    await api.put('data', 'moved/c.txt', 'in the way');
    await openFolder('#/data/');
    await page.getByRole('button', { name: 'Rename or move folder drop/' }).click();
    dialog = page.getByRole('dialog', { name: 'Rename or move drop/' });
    await dialog.getByLabel('New folder path').fill('moved/');
    await dialog.getByRole('button', { name: 'Rename or move' }).click();
    await dialog.getByRole('heading', { name: /^Moved 5 keys to moved\/; 1 skipped: they already exist there$/ }).waitFor();
    assert.equal((await api.get('data', 'moved/c.txt')).text, 'in the way');
    await dialog.getByRole('button', { name: 'Overwrite' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal((await api.get('data', 'moved/c.txt')).text, 'new c');
    assert.deepEqual(await api.keys('data', 'drop/'), []);
  });

  test('a folder that cannot be listed says so under its own breadcrumb, with no rows of another folder', async () => {
    await openFolder('#/data/moved/');
    await page.getByRole('button', { name: 'Preview c.txt' }).waitFor();
    await openFolder('#/no-such-bucket-here/deep/');
    await crumbs().locator('[aria-current="page"]').filter({ hasText: 'deep/' }).waitFor();
    await page
      .getByRole('alert')
      .filter({ hasText: /^deep\/ could not be listed: No bucket named "no-such-bucket-here" exists/ })
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Preview c.txt' }).count(), 0, 'the previous folder’s rows are gone');
    assert.equal(await page.getByText('Nothing here yet').isVisible(), false, 'an error is not an empty folder');
  });

  test('an expired session goes back to sign-in with a message, and signing in again returns to the same folder', async () => {
    await openFolder('#/data/moved/');
    await page.getByRole('button', { name: 'Preview c.txt' }).waitFor();
    ts.clock.advance(2 * DAY_MS);
    // The test's own client needs a token of the server's new day too.
    api = apiClient(ts.origin, await ts.token('tools-user', DAY_MS));
    await page.getByRole('button', { name: 'API keys' }).click();
    await page.getByRole('status').filter({ hasText: 'Your session expired, sign in again.' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('stowage.console.token')), null, 'the refused token is forgotten');
    assert.equal(await page.evaluate(() => location.hash), '#/data/moved/');
    assert.deepEqual(await axeViolations(page), [], 'the sign-in page with its notice');
    await saveScreenshot(page, 'tools-07-session-expired');
    await signIn(await ts.token('tools-user', DAY_MS));
    await page.getByRole('button', { name: 'Preview c.txt' }).waitFor();
    await crumbs().locator('[aria-current="page"]').filter({ hasText: 'moved/' }).waitFor();
    assert.equal(await page.getByText('Your session expired').count(), 0);
  });

  test('at 390×844: names end in an ellipsis, row actions fold into one menu, Sign out stays in the header, nothing overflows', async () => {
    assert.equal((await api.put('data', `phone/${LONG_NAME}`, 'a,b\n1,2\n', { 'content-type': 'text/csv' })).status, 200);
    await page.setViewportSize({ width: 390, height: 844 });
    await openFolder('#/data/phone/');
    const name = page.getByRole('button', { name: `Preview ${LONG_NAME}` });
    await name.waitFor();
    const style = await name.evaluate((element) => {
      const computed = getComputedStyle(element);
      return {
        textOverflow: computed.textOverflow,
        whiteSpace: computed.whiteSpace,
        cut: element.scrollWidth > element.clientWidth,
        title: element.getAttribute('title'),
        lines: Math.round(element.getBoundingClientRect().height / Number.parseFloat(computed.lineHeight)),
      };
    });
    assert.deepEqual(style, { textOverflow: 'ellipsis', whiteSpace: 'nowrap', cut: true, title: LONG_NAME, lines: 1 });

    const download = page.getByRole('button', { name: `Download ${LONG_NAME}` });
    assert.equal(await download.isVisible(), false, 'the actions are folded');
    const menu = page.getByRole('button', { name: `Actions for ${LONG_NAME}` });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    assert.ok(await download.isVisible());
    await saveScreenshot(page, 'tools-08-phone-menu');
    const downloaded = await waitForDownload(page, () => download.click());
    assert.equal(downloaded.content.toString(), 'a,b\n1,2\n');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false', 'choosing an action closes the menu');

    const signOut = page.getByRole('banner').getByRole('button', { name: 'Sign out' });
    const box = await signOut.boundingBox();
    const header = await page.getByRole('banner').boundingBox();
    assert.ok(
      box && header && box.x + box.width <= 390 && box.y + box.height <= header.y + header.height,
      'Sign out is on screen, in the header',
    );
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    assert.deepEqual(await axeViolations(page), [], 'the phone layout');
    await saveScreenshot(page, 'tools-09-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    // What the test caused on purpose: the expired token's 401, the missing bucket, the copy onto an existing key (409).
    assert.deepEqual(
      errors.filter((error) => !/status of (401|403|404|409)/.test(error)),
      [],
      'no other errors in the page',
    );
  });
});
