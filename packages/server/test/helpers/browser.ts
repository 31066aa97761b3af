// Browser tests: a headless Chromium driven by playwright-core (which downloads no browser of its
// own), screenshots under test-artifacts/console/, and accessibility checks with axe-core.
//
//   STOWAGE_TEST_CHROMIUM  the Chromium binary (scripts/test.sh sets it from scripts/services/chromium.sh);
//                          unset: /usr/bin/chromium, then /usr/bin/chromium-browser
//   STOWAGE_TEST_BROWSER   1: no Chromium is an error (CI), 0: browser tests skip; unset: they skip
//                          with a reason when no Chromium is found
/// <reference lib="dom" />
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImpactValue, Result } from 'axe-core';
import { type Browser, type BrowserContextOptions, chromium, type Download, type Page } from 'playwright-core';
import { deployment } from './deployment.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Where saveScreenshot writes: test-artifacts/console/<deployment>/ at the repository's root. */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-artifacts', 'console', deployment);

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium binary to drive: STOWAGE_TEST_CHROMIUM, else the first of the usual paths that exists. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.STOWAGE_TEST_CHROMIUM;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((candidate) => existsSync(candidate));
}

function skipReason(): string | false {
  const mode = process.env.STOWAGE_TEST_BROWSER;
  if (mode === '0') return 'browser tests turned off (STOWAGE_TEST_BROWSER=0)';
  const fromEnv = process.env.STOWAGE_TEST_CHROMIUM;
  if (fromEnv && !existsSync(fromEnv)) {
    throw new Error(`STOWAGE_TEST_CHROMIUM=${fromEnv} does not exist`);
  }
  if (chromiumPath()) return false;
  const reason = `no Chromium found (set STOWAGE_TEST_CHROMIUM, or run scripts/services/chromium.sh as root to install it; looked in ${CANDIDATES.join(', ')})`;
  if (mode === '1') throw new Error(`STOWAGE_TEST_BROWSER=1 but ${reason}`);
  return reason;
}

/**
 * For `describe(..., { skip: browserSkip })`: false when a Chromium is there, else why the
 * browser tests are skipped. With STOWAGE_TEST_BROWSER=1 a missing Chromium throws on import instead.
 */
export const browserSkip: string | false = skipReason();

/** The viewport newPage gives a page unless told otherwise. */
export const DEFAULT_VIEWPORT = { width: 1280, height: 800 } as const;

/**
 * Launches a headless Chromium. `--no-sandbox` because CI runs as root, where Chromium's sandbox
 * refuses to start. Close it with `browser.close()` (e.g. in `after`).
 */
export async function launchBrowser(options: { slowMo?: number } = {}): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(`launchBrowser: ${skipReason() || 'no Chromium found'}`);
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 60_000,
    ...options,
  });
}

export interface NewPageOptions extends BrowserContextOptions {
  /** Origin to grant clipboard-read and clipboard-write on (e.g. ts.origin), for readClipboard. */
  clipboardOrigin?: string;
  /** Default timeout of the page's actions and waits (default 15 s). */
  timeoutMs?: number;
}

/**
 * A page in a fresh context (its own cookies and storage): DEFAULT_VIEWPORT, locale en-US,
 * timezone UTC, downloads accepted. Closing the browser closes it; `page.context().close()` closes
 * it sooner.
 */
export async function newPage(browser: Browser, options: NewPageOptions = {}): Promise<Page> {
  const { clipboardOrigin, timeoutMs = 15_000, ...contextOptions } = options;
  const context = await browser.newContext({
    viewport: DEFAULT_VIEWPORT,
    locale: 'en-US',
    timezoneId: 'UTC',
    acceptDownloads: true,
    ...contextOptions,
  });
  if (clipboardOrigin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: clipboardOrigin });
  context.setDefaultTimeout(timeoutMs);
  return context.newPage();
}

/**
 * Errors the page raises (uncaught exceptions, unhandled rejections) and console.error messages
 * (with the URL they came from, e.g. a resource that failed to load), from now on, so a test can
 * `assert.deepEqual(errors, [])` at its end. Messages matching `ignore` are left out; by default
 * that is the 404 of /favicon.ico, which Chromium asks for by itself on a page that names no icon.
 */
export function collectPageErrors(page: Page, options: { ignore?: RegExp[] } = {}): string[] {
  const ignore = options.ignore ?? [/\/favicon\.ico\b/];
  const errors: string[] = [];
  const record = (message: string) => {
    if (!ignore.some((pattern) => pattern.test(message))) errors.push(message);
  };
  page.on('pageerror', (error) => record(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url } = message.location();
    record(`console.error: ${message.text()}${url ? ` (${url})` : ''}`);
  });
  return errors;
}

/**
 * A PNG of the page (the full scrollable page unless fullPage: false) at
 * test-artifacts/console/<deployment>/<name>.png; returns its path. Characters other than
 * letters, digits, dot, dash and underscore in `name` become dashes.
 */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true, animations: 'disabled' });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: ImpactValue | undefined;
  help: string;
  /** One entry per offending element: its CSS selector (axe's `target`, joined through frames by ' >>> '). */
  nodes: string[];
}

export interface AxeOptions {
  /** Impacts to report (default: serious and critical). */
  impact?: ImpactValue[];
  /** Only check inside these selectors (default: the whole document). */
  include?: string[];
  /** Leave these selectors out. */
  exclude?: string[];
  /** Rule ids not to run, e.g. ['color-contrast'] while a palette is unsettled. */
  disableRules?: string[];
}

let axeSource: string | undefined;
function loadAxeSource(): string {
  if (axeSource === undefined) {
    const require = createRequire(import.meta.url);
    axeSource = readFileSync(path.join(path.dirname(require.resolve('axe-core')), 'axe.min.js'), 'utf8');
  }
  return axeSource;
}

/**
 * Runs axe-core on the page as it is now and returns the violations of the given impacts
 * (serious and critical by default), for `assert.deepEqual(violations, [])`.
 *
 * axe is injected through the DevTools protocol rather than a <script> tag, so it works on pages
 * whose Content-Security-Policy forbids inline scripts (the console's does). Axe checks the whole
 * document, so a page without <title> or <html lang> has violations of its own.
 */
export async function axeViolations(page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> {
  const impacts = options.impact ?? ['serious', 'critical'];
  const hasAxe = () => page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!(await hasAxe())) {
    await page.evaluate(loadAxeSource());
    if (!(await hasAxe())) throw new Error('axeViolations: axe-core did not load into the page');
  }
  const context = { include: options.include ?? [], exclude: options.exclude ?? [] };
  const rules = Object.fromEntries((options.disableRules ?? []).map((id) => [id, { enabled: false }]));
  const results = await page.evaluate(
    async ({ context, rules }) => {
      const axe = (globalThis as unknown as { axe: typeof import('axe-core') }).axe;
      // No include means the whole document.
      const scope = { include: context.include.length > 0 ? context.include : [document], exclude: context.exclude };
      const { violations } = await axe.run(scope as Parameters<typeof axe.run>[0], { rules, resultTypes: ['violations'] });
      return violations;
    },
    { context, rules },
  );
  return (results as Result[])
    .filter((violation) => violation.impact && impacts.includes(violation.impact))
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.map((part) => (Array.isArray(part) ? part.join(' ') : String(part))).join(' >>> ')),
    }));
}

export interface SavedDownload {
  /** The name the page gave the file (Content-Disposition or the link's download attribute). */
  filename: string;
  content: Buffer;
  download: Download;
}

/** Runs `action` (e.g. a click) and waits for the download it starts; returns the file's name and bytes. */
export async function waitForDownload(page: Page, action: () => Promise<unknown>, timeoutMs = 15_000): Promise<SavedDownload> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: timeoutMs }), action()]);
  const failure = await download.failure();
  if (failure) throw new Error(`download of ${download.suggestedFilename()} failed: ${failure}`);
  const file = await download.path();
  return { filename: download.suggestedFilename(), content: await readFile(file), download };
}

/** The clipboard's text, on a page opened with newPage(browser, { clipboardOrigin }) at that origin. */
export function readClipboard(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Writes a file next to the screenshots (e.g. a page's HTML when an assertion fails); returns its path. */
export async function saveArtifact(name: string, content: string | Buffer): Promise<string> {
  const file = path.join(ARTIFACTS_DIR, name.replace(/[^A-Za-z0-9._-]+/g, '-'));
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await writeFile(file, content);
  return file;
}
