// The examples of the documentation, as tests run them: a marked block of a page, and a block of
// JavaScript run as written (an ES module of its own) against a test server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dataDirHolder } from '../../src/backends/fs/data-dir-lock.js';
import { runProcess } from './server-process.js';
import type { TestServer } from './test-server.js';

/** The repository's root folder. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The code of the block marked `<!-- name -->` … `<!-- /name -->` in `page` (relative to the root). */
export async function docBlock(page: string, name: string, language: string): Promise<string> {
  const text = await readFile(`${REPOSITORY_ROOT}${page}`, 'utf8');
  const found = new RegExp(`<!-- ${name} -->\\n\`\`\`${language}\\n([\\s\\S]*?)\`\`\`\\n<!-- /${name} -->`).exec(text)?.[1];
  assert.ok(found, `${page} has the ${name} block`);
  return found;
}

/** Runs a JavaScript block from the root as user `dev` of `ts` (its token in STOWAGE_TOKEN; `env` may say otherwise). */
export async function runJsExample(ts: TestServer, code: string, env: Record<string, string> = {}): ReturnType<typeof runProcess> {
  return runProcess(process.execPath, ['--input-type=module', '-e', code], {
    cwd: REPOSITORY_ROOT,
    env: { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev'), HOME: '/nonexistent', ...env },
  });
}

/** A port that was free a moment ago, for an example that starts a server on a fixed port. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Stops the server an example left running on `dataDir` when it failed midway (its pid is in the lock's owner). */
export function stopServerOf(dataDir: string): void {
  const holder = dataDirHolder(dataDir);
  const pid = holder.held ? Number(/^pid (\d+)/.exec(holder.owner ?? '')?.[1]) : undefined;
  if (pid) process.kill(pid, 'SIGTERM');
}
