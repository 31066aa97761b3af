// Guards the console's "Deleted items" view end to end in a real headless Chromium against a real
// server with retention on, on whichever deployment the suite runs: a folder's deleted and replaced
// files are listed (what happened, when, the version), a deleted file is restored by keyboard and is
// back in the folder with its bytes, a replaced file's earlier value is restored, and after the
// whole folder is deleted it is put back as it was at a time, after a confirmation that says what
// that does. A folder of more versions than a page reads on with "Load more". A bucket whose
// retention is off says so plainly. Axe checks the view and the dialog;
// screenshots go to test-artifacts/console/.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import type { VersionEntry, VersionsPage } from 'stowage-client/protocol';
import { formatKeptDays, keptDays, retentionWindowDays } from '../console/src/versions.js';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { axeViolations, browserSkip, collectPageErrors, launchBrowser, newPage, saveScreenshot } from './helpers/browser.js';
import { s3ClientOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const FOLDER = 'projects/';
const FILES = { 'alpha.txt': 'alpha, first draft\n', 'bravo.txt': 'bravo, as first written\n', 'charlie.txt': 'charlie\n' };
const BRAVO_LATER = 'bravo, overwritten\n';
const NO_RETENTION = `scratch-${randomBytes(3).toString('hex')}`;
const RULED = `ruled-${randomBytes(3).toString('hex')}`;

/** A `datetime-local` value to the second (the page's time zone is UTC). */
const localTime = (ms: number) => new Date(ms).toISOString().slice(0, 19);

describe('console: how long what is deleted is kept', () => {
  const info = (retentionDays: number | null, rules: Array<[string, number, boolean?]> = []) => ({
    retentionDays,
    retentionRules: rules.map(([prefix, days, enabled = true]) => ({ id: prefix, prefix, days, enabled })),
  });
  test('keptDays: the window, a key’s rules (the shortest), and the least and most under a folder', () => {
    const ruled = info(30, [
      ['logs/', 2],
      ['logs/keep/', 90],
      ['archive/', 90],
      ['old/', 1, false],
    ]);
    assert.deepEqual(keptDays(ruled, 'notes.txt', true), { least: 30, most: 30 });
    assert.deepEqual(keptDays(ruled, 'logs/keep/a', true), { least: 2, most: 2 });
    assert.deepEqual(keptDays(ruled, 'archive/a', true), { least: 90, most: 90 });
    assert.deepEqual(keptDays(ruled, 'old/a', true), { least: 30, most: 30 }, 'a disabled rule keeps nothing');
    assert.deepEqual(keptDays(ruled, 'logs', true), { least: 30, most: 30 }, 'a key is not under a rule its name begins');
    assert.deepEqual(keptDays(ruled, '', false), { least: 2, most: 90 });
    assert.deepEqual(keptDays(ruled, 'logs/', false), { least: 2, most: 2 });
    assert.deepEqual(keptDays(info(0, [['logs/', 2]]), 'logs/a', true), { least: 0, most: 0 }, 'retention off keeps nothing');
    assert.equal(keptDays(info(null, [['logs/', 2]]), 'logs/a', true), undefined, "the server's window is not told");
    assert.equal(keptDays(undefined, 'k', true), undefined);
    // A rule for every key bounds those for prefixes (the window may differ: retentionDays set since).
    const capped = info(10, [
      ['', 3],
      ['logs/', 90],
    ]);
    assert.deepEqual(keptDays(capped, 'logs/a', true), { least: 3, most: 3 });
    assert.deepEqual(keptDays(capped, 'k', true), { least: 10, most: 10 });
    assert.deepEqual(keptDays(capped, '', false), { least: 3, most: 10 });
  });

  test('keptDays and formatKeptDays with NewerNoncurrentVersions: the most newest a key keeps for good', () => {
    const counted = {
      retentionDays: 30,
      retentionRules: [
        { id: 'all', prefix: '', days: 40, enabled: true, newerVersions: 5 },
        { id: 'logs', prefix: 'logs/', days: 2, enabled: true, newerVersions: 3 },
        { id: 'tmp', prefix: 'tmp/', days: 1, enabled: true },
      ],
    };
    assert.deepEqual(keptDays(counted, 'logs/a', true), { least: 2, most: 2, newest: 3 });
    assert.deepEqual(keptDays(counted, 'tmp/a', true), { least: 1, most: 1 });
    assert.deepEqual(keptDays(counted, 'k', true), { least: 30, most: 30, newest: 5 }, 'the window’s keys: the rule for every key');
    assert.deepEqual(keptDays(counted, '', false), { least: 1, most: 30, newest: 5 });
    assert.equal(
      formatKeptDays({ least: 2, most: 2, newest: 3 }),
      "2 days (a key's 3 newest earlier values: until newer ones replace them)",
    );
    assert.equal(
      formatKeptDays({ least: 1, most: 30, newest: 1 }),
      "1 day to 30 days (a key's newest earlier value: until a newer one replaces it)",
    );
  });
  test('retentionWindowDays: what the bucket says, else the least and most of what the kept versions show', () => {
    const value = (days: number) => ({
      at: '2026-01-01T00:00:00.000Z',
      purgeAfter: new Date(Date.parse('2026-01-01') + days * DAY).toISOString(),
    });
    const kept = [value(2), value(7), value(2)].map((times, i) => ({
      key: `k${i}`,
      versionId: `v${i}`,
      size: 1,
      change: 'deleted' as const,
      sameAsNow: false,
      ...times,
    }));
    assert.deepEqual(retentionWindowDays(undefined, kept), { least: 2, most: 7 });
    assert.deepEqual(retentionWindowDays({ least: 5, most: 5 }, kept), { least: 5, most: 5 });
    assert.equal(retentionWindowDays(undefined, []), undefined);
  });
  test('formatKeptDays: one number, or the range with its unit once', () => {
    assert.equal(formatKeptDays({ least: 7, most: 7 }), '7 days');
    assert.equal(formatKeptDays({ least: 2, most: 30 }), '2 to 30 days');
    assert.equal(formatKeptDays({ least: 1, most: 30 }), '1 day to 30 days');
    assert.equal(formatKeptDays({ least: 1.5, most: 30 }), '36 hours to 30 days');
  });
});

describe('web console: deleted items and restore', { skip: browserSkip }, () => {
  let ts: TestServer;
  let api: ApiClient;
  let token: string;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  /** Server time after the files were written and before anything was deleted or replaced. */
  let beforeChanges = 0;

  before(async () => {
    ts = await startTestServer({ retentionMs: 7 * DAY });
    // Whole seconds, so that the times typed into the page are exact.
    ts.clock.advance(1000 - (ts.clock.nowMs % 1000));
    token = await ts.token('carol', 24 * 3_600_000);
    api = apiClient(ts.origin, token);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  const text = async (key: string) => {
    const res = await api.get('data', key);
    return res.status === 200 ? res.text : `(${res.status})`;
  };
  const versions = async (prefix: string): Promise<VersionEntry[]> =>
    (await api.call('GET', `/data/versions?prefix=${encodeURIComponent(prefix)}`)).json<VersionsPage>().versions;
  const deletedView = () => page.getByRole('region', { name: `Deleted items in ${FOLDER}` });
  const toggle = () => page.getByRole('button', { name: 'Deleted items', exact: true });
  const restoreButton = (name: string, change: 'deleted' | 'replaced') =>
    deletedView().getByRole('button', { name: new RegExp(`^Restore ${name.replace('.', '\\.')} \\(version …?\\S+, ${change} `) });

  test('files written, one deleted and one overwritten through the API', async () => {
    for (const [name, content] of Object.entries(FILES)) assert.equal((await api.put('data', FOLDER + name, content)).status, 200);
    ts.clock.advance(MINUTE);
    beforeChanges = ts.clock.nowMs;
    ts.clock.advance(MINUTE);
    assert.equal((await api.call('DELETE', `/data/${FOLDER}alpha.txt`)).status, 204);
    ts.clock.advance(MINUTE);
    assert.equal((await api.put('data', `${FOLDER}bravo.txt`, BRAVO_LATER)).status, 200);
    ts.clock.advance(MINUTE);
    assert.equal(await text(`${FOLDER}alpha.txt`), '(404)');
  });

  test('"Deleted items" lists the deleted file and the replaced one, with what happened and when', async () => {
    page = await newPage(browser);
    errors = collectPageErrors(page);
    await page.goto(`${ts.origin}/console/`);
    await page.getByLabel('Token', { exact: true }).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.who', { hasText: 'carol' }).waitFor();
    await page.goto(`${ts.origin}/console/#/data/${FOLDER}`);
    await page.getByRole('button', { name: 'Preview bravo.txt' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Preview alpha.txt' }).count(), 0);

    // By keyboard: the toggle is a button that says whether it is on.
    await toggle().focus();
    await page.keyboard.press('Enter');
    assert.equal(await toggle().getAttribute('aria-pressed'), 'true');
    await deletedView().waitFor();
    const alpha = restoreButton('alpha.txt', 'deleted');
    const bravo = restoreButton('bravo.txt', 'replaced');
    await alpha.waitFor();
    await bravo.waitFor();
    assert.equal(await deletedView().getByRole('row').count(), 3, 'a header and the two kept values');
    const alphaRow = deletedView()
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'alpha.txt' }) });
    const [kept] = (await versions(`${FOLDER}alpha.txt`)).filter((version) => !version.isDeleteMarker);
    assert.ok(kept);
    assert.equal(await alphaRow.getAttribute('data-version'), kept.versionId);
    await alphaRow.getByRole('cell', { name: /^Deleted 12|^Deleted \d/ }).waitFor();
    await alphaRow.getByText(`…${kept.versionId.slice(-8)}`).waitFor();
    await alphaRow.getByRole('cell', { name: '19 B' }).waitFor();
    await deletedView()
      .getByText(/kept for 7 days/)
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Preview bravo.txt' }).isVisible(), false, 'the folder listing is hidden');
    assert.deepEqual(await axeViolations(page), [], 'the deleted items view');
    await saveScreenshot(page, 'restore-01-deleted-items');
  });

  test('the deleted file is restored (by keyboard): it is back in the folder with its bytes', async () => {
    await restoreButton('alpha.txt', 'deleted').focus();
    await page.keyboard.press('Enter');
    const status = deletedView().getByRole('status');
    await status.filter({ hasText: /^Restored alpha\.txt: the value deleted .* is current again\.$/ }).waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'status');
    assert.equal(await text(`${FOLDER}alpha.txt`), FILES['alpha.txt']);
    ts.clock.advance(MINUTE);

    await toggle().click();
    assert.equal(await toggle().getAttribute('aria-pressed'), 'false');
    await page.getByRole('button', { name: 'Preview alpha.txt' }).click();
    const preview = page.getByRole('dialog', { name: `${FOLDER}alpha.txt` });
    await preview.getByText(FILES['alpha.txt'].trim()).waitFor();
    await preview.getByRole('button', { name: 'Close' }).click();
  });

  test('the overwritten file’s earlier value is restored', async () => {
    await toggle().click();
    await restoreButton('bravo.txt', 'replaced').click();
    await deletedView()
      .getByRole('status')
      .filter({ hasText: /^Restored bravo\.txt: the value replaced .* is current again\.$/ })
      .waitFor();
    assert.equal(await text(`${FOLDER}bravo.txt`), FILES['bravo.txt']);
    // The overwrite it undid is kept in turn, and listed.
    const replaced = deletedView()
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'bravo.txt' }) });
    await page.waitForFunction(() => document.querySelectorAll('.versions tr[data-key="projects/bravo.txt"]').length === 2);
    assert.equal(await replaced.count(), 2);
    await saveScreenshot(page, 'restore-02-restored');
    ts.clock.advance(MINUTE);
  });

  test('the whole folder, deleted through the API, is put back as it was at a time after a confirmation', async () => {
    const beforeDelete = ts.clock.nowMs;
    ts.clock.advance(MINUTE);
    assert.equal((await api.deletePrefix('data', FOLDER)).status, 200);
    ts.clock.advance(MINUTE);
    assert.deepEqual(await api.keys('data', FOLDER), []);

    // Read again (toggled off and on): every file of the folder is listed as deleted.
    await toggle().click();
    await page.getByText('Nothing here yet.').waitFor();
    await toggle().click();
    for (const name of Object.keys(FILES)) await restoreButton(name, 'deleted').first().waitFor();

    await deletedView().getByLabel('Restore this folder as it was at').fill(localTime(beforeDelete));
    await deletedView().getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${FOLDER}` });
    await dialog.getByText(`This puts every key under ${FOLDER} back as it was at`).waitFor();
    await dialog.getByText('keys created since then are deleted;').waitFor();
    assert.deepEqual(await axeViolations(page), [], 'the restore-folder confirmation');
    await saveScreenshot(page, 'restore-03-confirm-folder');
    await dialog.getByRole('button', { name: 'Restore folder' }).click();
    await dialog.waitFor({ state: 'detached' });
    await deletedView()
      .getByRole('status')
      .filter({ hasText: /as it was at .*: 3 restored, 0 deleted, 0 unchanged, 0 skipped\.$/ })
      .waitFor();
    assert.equal(await text(`${FOLDER}alpha.txt`), FILES['alpha.txt']);
    assert.equal(await text(`${FOLDER}bravo.txt`), FILES['bravo.txt']);
    assert.equal(await text(`${FOLDER}charlie.txt`), FILES['charlie.txt']);

    await toggle().click();
    for (const name of Object.keys(FILES)) await page.getByRole('button', { name: `Preview ${name}` }).waitFor();
    await page.getByText('3 objects').waitFor();
    await saveScreenshot(page, 'restore-04-folder-back');
  });

  test('a time before the changes puts the first versions back; the view fits a phone', async () => {
    await toggle().click();
    await deletedView().getByLabel('Restore this folder as it was at').fill(localTime(beforeChanges));
    await deletedView().getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog', { name: `Restore ${FOLDER}` });
    await dialog.getByRole('button', { name: 'Restore folder' }).click();
    // Every file already holds the value it had then.
    await deletedView()
      .getByRole('status')
      .filter({ hasText: /: 0 restored, 0 deleted, 3 unchanged, 0 skipped\.$/ })
      .waitFor();

    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await saveScreenshot(page, 'restore-05-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test('a folder with more versions than a page: "Load more" reads the next ones', async () => {
    // 600 keys written twice: 1200 versions, more than a page of 1000, 600 earlier values.
    const keys = Array.from({ length: 600 }, (_, i) => `many/k${String(i).padStart(4, '0')}`);
    for (const round of ['one', 'two'])
      for (let i = 0; i < keys.length; i += 20)
        await Promise.all(keys.slice(i, i + 20).map(async (key) => assert.equal((await api.put('data', key, round)).status, 200)));
    await page.goto(`${ts.origin}/console/#/data/many/`);
    await page.reload();
    await toggle().click();
    const view = page.getByRole('region', { name: 'Deleted items in many/' });
    const rows = view.locator('tbody tr');
    await view.getByRole('button', { name: 'Load more' }).waitFor();
    assert.equal(await rows.count(), 500, 'the first page: 1000 versions, 500 of them earlier values');
    await view.getByRole('button', { name: 'Load more' }).click();
    await view.getByRole('button', { name: 'Load more' }).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 600);
    await view.getByRole('rowheader', { name: 'k0599' }).waitFor();
  });

  test('a bucket whose retention is off says so plainly', async () => {
    const created = await api.call('POST', '/buckets', { body: { name: NO_RETENTION, retentionDays: 0 } });
    assert.equal(created.status, 201, created.text);
    assert.equal((await api.put(NO_RETENTION, 'gone.txt', 'x')).status, 200);
    assert.equal((await api.call('DELETE', `/${NO_RETENTION}/gone.txt`)).status, 204);
    await page.goto(`${ts.origin}/console/#/${NO_RETENTION}/`);
    await page.reload();
    await page.getByRole('heading', { name: NO_RETENTION, level: 2, exact: true }).waitFor();
    if ((await toggle().getAttribute('aria-pressed')) !== 'true') await toggle().click();
    const view = page.getByRole('region', { name: `Deleted items in the top of ${NO_RETENTION}` });
    await view
      .getByText(
        "Retention is off for this bucket: what is deleted or replaced here is not kept. Deleted items are kept only when retention is on: STOWAGE_RETENTION or the bucket's retention.",
      )
      .waitFor();
    assert.equal(await view.getByRole('button', { name: 'Restore…' }).count(), 0, 'nothing to restore a folder from');
    assert.deepEqual(await axeViolations(page), [], 'the view of a bucket without retention');
    await saveScreenshot(page, 'restore-06-retention-off');
  });

  test('a bucket with lifecycle retention rules by prefix: each dialog and view says how long its keys are kept', async () => {
    const created = await api.call('POST', '/buckets', { body: { name: RULED, retentionDays: 30 } });
    assert.equal(created.status, 201, created.text);
    const s3 = await s3ClientOf(ts, 'carol');
    try {
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: RULED,
          LifecycleConfiguration: {
            Rules: [{ ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 2 } }],
          },
        }),
      );
    } finally {
      s3.destroy();
    }
    for (const key of ['logs/a.txt', 'notes.txt']) assert.equal((await api.put(RULED, key, 'x')).status, 200);
    await page.goto(`${ts.origin}/console/#/${RULED}/`);
    await page.reload();
    await page.getByRole('heading', { name: RULED, level: 2, exact: true }).waitFor();
    if ((await toggle().getAttribute('aria-pressed')) === 'true') await toggle().click();
    const deleteDialog = async (button: string, title: string, says: string) => {
      await page.getByRole('button', { name: button, exact: true }).click();
      const dialog = page.getByRole('dialog', { name: title });
      await dialog.getByText(says).waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    };
    await deleteDialog('Delete notes.txt', 'Delete notes.txt', 'It can be restored from Deleted items for 30 days.');
    await deleteDialog('Delete folder logs/', 'Delete logs/', 'It can be restored from Deleted items for 2 days.');
    await toggle().click();
    await page
      .getByRole('region', { name: `Deleted items in the top of ${RULED}` })
      .getByText(
        `Nothing deleted or replaced under the top of ${RULED} is kept now. This bucket keeps what is deleted or replaced here for 2 to 30 days.`,
      )
      .waitFor();
    await saveScreenshot(page, 'restore-07-retention-rules');
    await toggle().click();
  });

  test('no other errors in the page', () => {
    assert.deepEqual(errors, []);
  });
});
