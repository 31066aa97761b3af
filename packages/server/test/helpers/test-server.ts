import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { defineConfig, type ServerConfig } from '../../src/config.js';
import type { PausePoint } from '../../src/failpoints.js';
import { createServer, type StowageServer } from '../../src/server.js';
import { freshNamespace, namespaceOf } from './deployment.js';
import { type StoredFiles, storedFiles } from './stored-files.js';

/** A clock tests can move. */
export class TestClock {
  constructor(public nowMs = Date.now()) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export interface TestServer {
  /** Base URL of the API, e.g. http://127.0.0.1:PORT/storage/v1 */
  url: string;
  origin: string;
  dataDir: string;
  server: StowageServer;
  clock: TestClock;
  token(tenant?: string, ttlMs?: number): Promise<string>;
  /** Environment that puts a `stowage` process (admin commands, a second server) on this server's storage. */
  env: Record<string, string>;
  /** What the blob store holds (temp, blobs, parts), whichever deployment this is. */
  files(): Promise<StoredFiles>;
  close(): Promise<void>;
}

/**
 * Starts a real server in-process on port 0 with a fresh data directory. `logger`: where its log
 * goes (none by default); `pause` holds requests at named steps (helpers/pause-points.ts).
 */
export async function startTestServer(
  fields: Partial<ServerConfig> = {},
  options: { dataDir?: string; logger?: Logger; pause?: PausePoint } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'stowage-test-')));
  const clock = new TestClock();
  // The scale-out deployment gets its own schema and bucket prefix per data directory; a server
  // restarted on a given data directory finds what the previous one stored.
  const namespace = options.dataDir ? await namespaceOf(options.dataDir) : await freshNamespace();
  // No ballast file: dozens of short-lived test servers need not each write 16 MiB.
  const config = defineConfig({ durability: 'process', ballastBytes: 0, ...namespace.fields, ...fields, dataDir });
  const server = await createServer(config, {
    clock: clock.now,
    logger: options.logger,
    ...(options.pause && { pause: options.pause }),
  });
  const url = await server.listen();
  return {
    url,
    origin: new URL(url).origin,
    dataDir,
    server,
    clock,
    token: (tenant = 'alice', ttlMs = 3_600_000) => server.issueToken(tenant, ttlMs),
    env: namespace.env,
    files: () => storedFiles(config),
    async close() {
      await server.close();
      if (!options.dataDir) {
        await namespace.drop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
