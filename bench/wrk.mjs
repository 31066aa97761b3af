// wrk, the load generator for small requests (Debian package wrk): installed with apt-get when
// missing and the harness runs as root, else the scenarios that need it are skipped.
import path from 'node:path';
import { ensureBinary } from './apt.mjs';
import { run } from './procs.mjs';
import { REPO } from './servers.mjs';

const SCRIPT = path.join(REPO, 'bench/wrk/bench.lua');

/** { binary, version } or { skipped: reason }. */
export async function ensureWrk(log) {
  const binary = await ensureBinary('wrk', ['wrk'], log);
  if (!binary) return { skipped: 'wrk is not installed (Debian: apt-get install wrk; needs root)' };
  const { stdout, stderr } = await run(binary, ['--version']);
  const version = `${stdout}${stderr}`.match(/wrk (\S+)/)?.[1] ?? 'unknown';
  return { binary, version };
}

/**
 * One wrk run: `wrk -t2 -c32 -d<seconds>s --latency` with bench/wrk/bench.lua.
 * Resolves { rps, p50Ms, p90Ms, p99Ms, requests, errors, valid, raw }; `valid` is false when any
 * request failed or answered outside 2xx/3xx, so a fast error page is never taken for a result.
 */
export async function runWrk(
  binary,
  { origin, mode = 'get', path: urlPath = '/', keyPrefix = 'k', headers = {}, tokens = [], seconds, threads = 2, connections = 32 },
) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', SCRIPT];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(mode === 'get' ? `${origin}${urlPath}` : `${origin}/`);
  const env = { ...process.env, BENCH_MODE: mode, BENCH_PATH: urlPath, BENCH_KEY_PREFIX: keyPrefix, BENCH_TOKENS: tokens.join(',') };
  const result = await run(binary, args, { env });
  const line = result.stdout.match(/^BENCH_RESULT (\{.*\})$/m);
  if (result.code !== 0 || !line) throw new Error(`wrk failed (${result.code}): ${result.stdout}${result.stderr}`);
  const r = JSON.parse(line[1]);
  const errors = r.connect_errors + r.read_errors + r.write_errors + r.status_errors + r.timeouts;
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50Ms: r.p50_us / 1000,
    p90Ms: r.p90_us / 1000,
    p99Ms: r.p99_us / 1000,
    requests: r.requests,
    errors,
    statusErrors: r.status_errors,
    valid: errors === 0 && r.requests > 0,
    raw: result.stdout,
  };
}
