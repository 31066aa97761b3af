// ApacheBench (`ab`, Debian package apache2-utils), the load generator for HEAD: wrk cannot send
// HEAD, and autocannon (9.0.0) waits for the body a HEAD response's Content-Length announces.
// Installed with apt-get when missing and the harness runs as root, else HEAD is not measured.
// ab is single-threaded: one core drives the load, so its figures are not comparable with wrk's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureBinary } from './apt.mjs';
import { run } from './procs.mjs';

/** { binary, version } or { skipped: reason }. */
export async function ensureAb(log) {
  const binary = await ensureBinary('ab', ['apache2-utils'], log);
  if (!binary) return { skipped: 'ApacheBench is not installed (Debian: apt-get install apache2-utils; needs root)' };
  const { stdout, stderr } = await run(binary, ['-V']);
  const version = `${stdout}${stderr}`.match(/Version (\S+)/)?.[1] ?? 'unknown';
  return { binary, version };
}

/** A number from a "Name:   value" line of ab's report, or 0 when the line is absent (ab omits "Non-2xx responses" when there were none). */
function field(text, name) {
  const match = text.match(new RegExp(`^${name}:\\s+([\\d.]+)`, 'm'));
  return match ? Number(match[1]) : 0;
}

/**
 * One ab run: `ab -k [-i] -c<connections> -t<seconds> -n 10000000` (keep-alive; -i sends HEAD).
 * `-t` alone would stop after 50,000 requests, so `-n` lifts that and the time limit ends the run.
 * Percentiles come from ab's CSV (`-e`, to the µs) rather than its whole-millisecond table.
 * Resolves { rps, p50Ms, p99Ms, requests, failed, non2xx, keepAlive, valid, raw }; `valid` is
 * false when any request failed, answered outside 2xx, or the run completed none.
 */
export async function runAb(binary, { url, head = false, headers = {}, seconds, connections = 32, csvDir }) {
  const csv = path.join(csvDir, `ab-${process.pid}-${Date.now()}.csv`);
  const args = ['-k', '-c', String(connections), '-t', String(seconds), '-n', '10000000', '-q', '-e', csv];
  if (head) args.push('-i');
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const result = await run(binary, args);
  const out = result.stdout;
  if (result.code !== 0 || !/Requests per second:/.test(out)) throw new Error(`ab failed (${result.code}): ${out}${result.stderr}`);
  const percentiles = new Map();
  try {
    for (const line of (await readFile(csv, 'utf8')).split('\n')) {
      const [p, ms] = line.split(',').map(Number);
      if (Number.isInteger(p) && Number.isFinite(ms)) percentiles.set(p, ms);
    }
  } catch {
    // no CSV: the percentiles stay unknown
  }
  const requests = field(out, 'Complete requests');
  const failed = field(out, 'Failed requests');
  const non2xx = field(out, 'Non-2xx responses');
  return {
    rps: field(out, 'Requests per second'),
    p50Ms: percentiles.get(50) ?? Number.NaN,
    p99Ms: percentiles.get(99) ?? Number.NaN,
    requests,
    failed,
    non2xx,
    keepAlive: field(out, 'Keep-Alive requests'),
    valid: requests > 0 && failed === 0 && non2xx === 0,
    raw: out,
  };
}
