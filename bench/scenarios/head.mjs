// HEAD (exists) under load. wrk cannot measure HEAD, so this uses autocannon when it is installed
// (node_modules/.bin or PATH; it is not a dependency of the project) for both Stowage HEAD and the
// node-ceiling GET, so the ratio compares one load generator with itself. Otherwise, or when
// autocannon completes no HEAD request (9.0.0 waits for the body the Content-Length announces):
// not measured.

import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { run, which } from '../procs.mjs';
import { REPO } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { SMALL_KEY } from './small.mjs';

function findAutocannon() {
  const local = path.join(REPO, 'node_modules/.bin/autocannon');
  try {
    accessSync(local, constants.X_OK);
    return local;
  } catch {
    return which('autocannon');
  }
}

async function autocannon(binary, { url, method, token, seconds }) {
  const out = await run(binary, ['-c', '32', '-d', String(seconds), '-j', '-n', '-m', method, '-H', `authorization=Bearer ${token}`, url]);
  const r = JSON.parse(out.stdout);
  const failed = (r.non2xx ?? 0) + (r.errors ?? 0) + (r.timeouts ?? 0);
  const answered = r['2xx'] ?? 0;
  return { rps: failed === 0 && answered > 0 ? r.requests.average : Number.NaN, p99Ms: r.latency.p99, failed, answered };
}

export async function runHead(ctx) {
  const result = {
    id: 'head',
    figure: 'HEAD 1 KiB (exists), 32 connections, vs node-ceiling GET',
    unit: 'req/s',
    ref: 'node',
    values: {},
    p99Ms: {},
    issues: [],
  };
  const binary = findAutocannon();
  const node = ctx.servers.find((s) => s.name === 'node');
  if (!binary || !node) {
    ctx.record({ ...result, skipped: binary ? 'no node-ceiling' : 'autocannon is not installed (wrk cannot measure HEAD)' });
    return;
  }
  const targets = [
    { name: 'stowage', url: `${ctx.stowage.url}/data/get/${SMALL_KEY}`, method: 'HEAD' },
    { name: 'node', url: `${node.origin}/small`, method: 'GET' },
  ];
  for (const target of targets) {
    const warm = await autocannon(binary, { ...target, token: ctx.token, seconds: ctx.warmSeconds });
    if (warm.answered === 0) {
      // autocannon 9 waits for the body that a HEAD response's Content-Length announces, and so
      // completes no HEAD request at all: that is no measurement, not a slow server.
      ctx.record({
        ...result,
        skipped: `autocannon completed no ${target.method} request to ${target.name} (it waits for a body after HEAD), so HEAD is not measured`,
      });
      return;
    }
  }
  result.order = [];
  for (let rep = 0; rep < ctx.reps; rep++) {
    result.order.push(rotated(targets, rep).map((target) => target.name));
    for (const target of rotated(targets, rep)) {
      const r = await autocannon(binary, { ...target, token: ctx.token, seconds: ctx.seconds });
      append(result.values, target.name, r.rps);
      append(result.p99Ms, target.name, r.p99Ms);
      if (r.failed) result.issues.push(`${target.name} repetition ${rep + 1}: ${r.failed} failed requests`);
      ctx.log(`head rep ${rep + 1} ${target.name} ${target.method}: ${Math.round(r.rps)} req/s`);
      await sleep(1000);
    }
  }
  result.ratio = ratios(result.values.stowage, result.values.node);
  ctx.record(result);
}
