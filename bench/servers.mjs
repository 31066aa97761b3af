// Starting and stopping the servers under test: Stowage (through its CLI, as a user runs it) and
// the node-ceiling reference. Each server is { name, origin, pid, child, stop() }.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startTracked, stopProcess, waitForOutput } from './procs.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const STOWAGE_BIN = path.join(REPO, 'packages/cli/bin/stowage.js');

/** The environment for Stowage processes: the caller's, minus any STOWAGE_* setting that would change what is measured. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('STOWAGE_') && !name.startsWith('DESCARTESLABS_')) env[name] = value;
  return { ...env, ...extra };
}

/**
 * `stowage serve --port 0 --data-dir DIR --log-level warn` (durable by default). Resolves once it
 * printed its "serving" line; `startupMs` is the time from spawn to that line. `env`: STOWAGE_*
 * settings of a deployment (e.g. a PostgreSQL index and an S3 bucket), on top of cleanEnv();
 * `nodeFlags`: flags for node itself (e.g. --cpu-prof).
 */
export async function startStowage(dataDir, { name = 'stowage', timeoutMs = 120_000, env = {}, nodeFlags = [] } = {}) {
  const started = process.hrtime.bigint();
  const args = [...nodeFlags, STOWAGE_BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'];
  const child = startTracked(process.execPath, args, {
    cwd: REPO,
    env: cleanEnv(env),
  });
  const match = await waitForOutput(child, /Stowage is serving (http:\/\/[^\s]+)/, timeoutMs);
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6;
  const url = match[1];
  return { name, url, origin: new URL(url).origin, pid: child.pid, child, startupMs, stop: () => stopProcess(child) };
}

/** A token for `user` signed with the data directory's secret, or STOWAGE_JWT_SECRET of `env` (`stowage token`). */
export async function issueToken(dataDir, user = 'bench', env = {}) {
  const result = await run(process.execPath, [STOWAGE_BIN, 'token', '--user', user, '--ttl', '12h', '--data-dir', dataDir], {
    cwd: REPO,
    env: cleanEnv(env),
  });
  if (result.code !== 0) throw new Error(`stowage token failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim();
}

/** bench/node-ceiling.mjs, serving `largeFile` at /large and writing PUT bodies into `putDir`. */
export async function startNodeCeiling({ largeFile, putDir, nodeFlags = [] }) {
  const script = path.join(REPO, 'bench/node-ceiling.mjs');
  const child = startTracked(process.execPath, [...nodeFlags, script, '--port', '0', '--file', largeFile, '--put-dir', putDir], {
    cwd: REPO,
  });
  const match = await waitForOutput(child, /node-ceiling serving (http:\/\/[^\s]+)/, 15_000);
  return { name: 'node', origin: match[1], pid: child.pid, child, stop: () => stopProcess(child) };
}

/** A port that was free a moment ago (for servers that cannot report the one they chose). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process in bytes (VmRSS), or undefined when it is gone. */
export function rssOf(pid) {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stop(): { baseline, peak } in bytes. */
export function sampleRss(pid, everyMs = 20) {
  const baseline = rssOf(pid) ?? 0;
  let peak = baseline;
  const timer = setInterval(() => {
    const rss = rssOf(pid);
    if (rss !== undefined && rss > peak) peak = rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = rssOf(pid);
      if (rss !== undefined && rss > peak) peak = rss;
      return { baseline, peak, growth: peak - baseline };
    },
  };
}
