import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { namespaceOf } from './deployment.js';

const HELPERS = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.resolve(HELPERS, '../../../cli/bin/stowage.js');
const MEMORY_PROBE = path.join(HELPERS, 'memory-probe.cjs');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  origin: string;
  /** Where the S3 API is, as the start-up lines say: `/s3` on the API port, then the S3 port's root if any. */
  s3Endpoints: string[];
  /** Started with `memoryProbe`: the memory the server still uses after a full collection, and its RSS, in bytes. */
  liveMemory(): Promise<{ live: number; rss: number }>;
  /** Resolves with the exit code or signal once the process ended. */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** The environment that puts a process on `dataDir`'s storage namespace (see namespaceOf). */
export async function namespaceEnv(dataDir: string): Promise<Record<string, string>> {
  return (await namespaceOf(dataDir)).env;
}

/**
 * Runs the built `stowage serve` in its own process on port 0 and waits until it listens. With
 * `memoryProbe`, the process answers `liveMemory()` (memory-probe.cjs).
 */
export async function startServerProcess(
  dataDir: string,
  env: Record<string, string> = {},
  options: { memoryProbe?: boolean } = {},
): Promise<ServerProcess> {
  const probe = options.memoryProbe ? ['--expose-gc', '--require', MEMORY_PROBE] : [];
  let probes = 0;
  const child = spawn(process.execPath, [...probe, CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, ...(await namespaceEnv(dataDir)), ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.memoryProbe ? (['ipc'] as const) : [])],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  let output = '';
  const [url, s3Endpoints] = await new Promise<[string, string[]]>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      const match = /serving (http:\/\/\S+)[\s\S]*?\nS3 API: ([^\n]+)\n/.exec(output);
      if (match?.[1] && match[2]) resolve([match[1], match[2].split(' and ')]);
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)));
  });
  return {
    child,
    url,
    origin: new URL(url).origin,
    s3Endpoints,
    exited,
    async liveMemory() {
      if (!options.memoryProbe) throw new Error('liveMemory() needs a server started with memoryProbe');
      const id = ++probes;
      return new Promise((resolve, reject) => {
        const settle = (error?: Error, answer?: { live: number; rss: number }) => {
          child.off('message', onMessage);
          child.off('exit', onExit);
          if (answer) resolve(answer);
          else reject(error);
        };
        const onMessage = (message: { id?: number; live: number; rss: number }) => {
          if (message.id === id) settle(undefined, message);
        };
        const onExit = () => settle(new Error('the server exited before it answered liveMemory()'));
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.send({ probe: 'live-memory', id }, (error) => error && settle(error));
      });
    },
  };
}

/** Runs the built `stowage` CLI and collects its output; with `--data-dir`, on that directory's namespace. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dataDir = args[args.indexOf('--data-dir') + 1];
  const namespace = args.includes('--data-dir') && dataDir ? await namespaceEnv(dataDir) : {};
  return runNode([CLI, ...args], { ...namespace, ...env });
}

/** Runs a Node script to its end and collects its output. */
export function runNode(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runProcess(process.execPath, args, { env });
}

/** Runs a program to its end and collects its output. */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
