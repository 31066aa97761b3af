// Guards the browser-test harness itself (helpers/browser.ts): a real server opened in headless
// Chromium, a screenshot written to test-artifacts/, axe-core finding (and not inventing)
// accessibility problems, also under a Content-Security-Policy without inline scripts, and
// downloads and the clipboard reaching the test.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
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

const ACCESSIBLE =
  '<!doctype html><html lang="en"><head><title>x</title></head><body><main><h1>x</h1><button>ok</button></main></body></html>';

describe('browser harness', { skip: browserSkip }, () => {
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  before(async () => {
    [ts, browser] = await Promise.all([startTestServer(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await ts?.close();
  });

  test('opens a page of the real server and screenshots it', async () => {
    page = await newPage(browser);
    const errors = collectPageErrors(page);
    const response = await page.goto(`${ts.origin}/healthz`);
    assert.equal(response?.status(), 200);
    // Chromium shows JSON as text (with a pretty-print toggle around it).
    assert.match((await page.locator('body').textContent()) ?? '', /{"status":"ok"}/);
    const file = await saveScreenshot(page, 'smoke-healthz');
    assert.match(file, /test-artifacts\/console\/(embedded|postgres-s3)\/smoke-healthz\.png$/);
    const png = await stat(file);
    assert.ok(png.size > 0, `${file} is empty`);
    assert.deepEqual(errors, []);
  });

  test('axe finds no serious or critical violation on an accessible page', async () => {
    await page.setContent(ACCESSIBLE);
    assert.deepEqual(await axeViolations(page), []);
  });

  test('axe reports an unlabelled input, and a document without title or lang', async () => {
    await page.setContent('<main><h1>x</h1><input type="text"><button>ok</button></main>');
    const violations = await axeViolations(page);
    const ids = violations.map((violation) => violation.id).sort();
    assert.deepEqual(ids, ['document-title', 'html-has-lang', 'label']);
    const label = violations.find((violation) => violation.id === 'label');
    assert.equal(label?.impact, 'critical');
    assert.deepEqual(label?.nodes, ['input']);
    // Scoped to <main>, the document-level rules stay out.
    assert.deepEqual(
      (await axeViolations(page, { include: ['main'] })).map((violation) => violation.id),
      ['label'],
    );
    assert.deepEqual(await axeViolations(page, { impact: ['minor'] }), []);
  });

  test('axe runs on a page whose Content-Security-Policy forbids inline scripts', async () => {
    await page.setContent(
      ACCESSIBLE.replace('<title>', `<meta http-equiv="content-security-policy" content="script-src 'self'"><title>`).replace(
        '<button>ok</button>',
        '<button>ok</button><input>',
      ),
    );
    const inline = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
      return (globalThis as { inlineRan?: boolean }).inlineRan === true;
    });
    assert.equal(inline, false, 'the policy should block inline scripts');
    assert.deepEqual(
      (await axeViolations(page)).map((violation) => violation.id),
      ['label'],
    );
  });

  test('a download and the clipboard reach the test', async () => {
    const clip = await newPage(browser, { clipboardOrigin: ts.origin });
    await clip.goto(`${ts.origin}/healthz`);
    await clip.evaluate(() => {
      const link = document.createElement('a');
      link.href = '/healthz';
      link.download = 'health.json';
      link.textContent = 'download';
      document.body.append(link);
    });
    const saved = await waitForDownload(clip, () => clip.click('a[download]'));
    assert.equal(saved.filename, 'health.json');
    assert.deepEqual(JSON.parse(saved.content.toString('utf8')), { status: 'ok' });

    await clip.evaluate(() => navigator.clipboard.writeText('copied from the page'));
    assert.equal(await readClipboard(clip), 'copied from the page');
    await clip.context().close();
  });
});
