// Child processes of the benchmark: every long-running one is tracked so the harness can stop it
// from a finally block or a signal handler, whatever happened.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const tracked = new Set();
/** Daemons that outlive the command that started them (PostgreSQL, Ceph): { name, stop(), stopNow() }. */
const services = new Set();

/**
 * Registers a service whose processes are not children of the harness (they were daemonised by a
 * start script), so stopAll() and killAllNow() stop it too: `stop` is async, `stopNow` synchronous
 * (for process 'exit'). Returns a function that stops it and forgets it (once).
 */
export function trackService(service) {
  services.add(service);
  let stopping;
  return () => {
    stopping ??= (async () => {
      try {
        await service.stop();
      } finally {
        services.delete(service);
      }
    })();
    return stopping;
  };
}

/** Starts a long-running process (a server) and tracks it until it exits. */
export function startTracked(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.output = '';
  const keep = (chunk) => {
    child.output += chunk;
    if (child.output.length > 64 * 1024) child.output = child.output.slice(-32 * 1024);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  return track(child);
}

/** Adds a child to the set stopAll() stops; `child.exited` resolves when it exits. */
function track(child) {
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  tracked.add(child);
  child.exited.then(() => tracked.delete(child));
  return child;
}

/** Resolves with the first match of `pattern` in the child's output; rejects if it exits or times out first. */
export function waitForOutput(child, pattern, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = child.output.match(pattern);
      if (match) finish(null, match);
    };
    const onExit = ({ code, signal }) =>
      finish(new Error(`${child.spawnfile} exited (${signal ?? code}) before printing ${pattern}:\n${child.output.slice(-2000)}`));
    const timer = setTimeout(
      () => finish(new Error(`${child.spawnfile} printed no ${pattern} in ${timeoutMs} ms:\n${child.output}`)),
      timeoutMs,
    );
    function finish(error, match) {
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
      if (error) reject(error);
      else resolve(match);
    }
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.exited.then(onExit);
    check();
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Stops every tracked process that is still running, then every tracked service. */
export async function stopAll() {
  await Promise.all([...tracked].map((child) => stopProcess(child, 5_000)));
  for (const service of [...services]) {
    services.delete(service);
    try {
      await service.stop();
    } catch {
      // stopNow() at exit is the last resort
      services.add(service);
    }
  }
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is still tracked. */
export function killAllNow() {
  for (const child of tracked) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const service of services) {
    try {
      service.stopNow();
    } catch {
      // nothing more can be done at exit
    }
  }
  services.clear();
}

/** Runs a command to completion: { code, stdout, stderr, ms } (wall time from spawn to exit). Tracked meanwhile. */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      resolve({ code: code ?? signal, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

/** The full path of an executable on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
