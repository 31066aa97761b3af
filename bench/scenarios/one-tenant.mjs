// One tenant's write rate on the scale-out deployment: new 1 KiB PUTs from wrk (one process of
// 1 thread x 32 connections per server) against two Stowage servers over the same PostgreSQL +
// RGW, all as one tenant, against the same load spread over 64 tenants, in the same run, the
// order rotated in each repetition. What it shows: whether the tenant's usage accounting
// serializes its writers.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { issueToken, startStowage } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { runWrk } from '../wrk.mjs';

const TENANTS = 64;
const CONNECTIONS_PER_SERVER = 32;

export async function measureOneTenant(ctx, { stowage, deployment, dir, setup }) {
  const result = {
    id: 'pg-one-tenant',
    figure: `PostgreSQL + S3, two servers: new 1 KiB PUTs, ${2 * CONNECTIONS_PER_SERVER} connections, all as one tenant against spread over ${TENANTS} tenants`,
    unit: 'req/s',
    ref: 'tenants-64',
    values: {},
    p99Ms: {},
    order: [],
    issues: [],
  };
  if (ctx.wrk.skipped) return ctx.record({ ...result, skipped: ctx.wrk.skipped });
  const secondDir = path.join(dir, 'stowage-2');
  mkdirSync(secondDir, { recursive: true });
  const second = await startStowage(secondDir, { name: 'stowage-s3-2', env: deployment });
  try {
    const tokenDir = path.join(dir, 'stowage');
    const tokens = [];
    // Eight `stowage token` processes at a time.
    for (let start = 0; start < TENANTS; start += 8)
      tokens.push(...(await Promise.all(Array.from({ length: 8 }, (_, i) => issueToken(tokenDir, `writer-${start + i}`, deployment)))));
    const loads = [
      { name: 'stowage', tokens: tokens.slice(0, 1) },
      { name: 'tenants-64', tokens },
    ];
    let round = 0;
    const run = (load, seconds) => {
      round++;
      return Promise.all(
        [stowage, second].map((server, i) =>
          runWrk(ctx.wrk.binary, {
            origin: server.origin,
            mode: 'put-new',
            path: `${new URL(server.url).pathname}/data/set/`,
            keyPrefix: `t${round}s${i}`,
            tokens: load.tokens,
            seconds,
            threads: 1,
            connections: CONNECTIONS_PER_SERVER,
          }),
        ),
      );
    };
    for (const load of loads) await run(load, ctx.warmSeconds);
    for (let rep = 0; rep < ctx.reps; rep++) {
      result.order.push(rotated(loads, rep).map((load) => load.name));
      for (const load of rotated(loads, rep)) {
        const runs = await run(load, ctx.seconds);
        const valid = runs.every((r) => r.valid);
        const rps = runs.reduce((total, r) => total + r.rps, 0);
        const p99 = Math.max(...runs.map((r) => r.p99Ms));
        append(result.values, load.name, valid ? rps : Number.NaN);
        append(result.p99Ms, load.name, valid ? p99 : Number.NaN);
        if (!valid)
          result.issues.push(
            `${load.name} repetition ${rep + 1}: ${runs.reduce((n, r) => n + r.errors, 0)} failed requests of ${runs.reduce((n, r) => n + r.requests, 0)}`,
          );
        ctx.log(`pg-one-tenant rep ${rep + 1} ${load.name}: ${Math.round(rps)} req/s, p99 ${p99.toFixed(1)} ms`);
        await sleep(1000);
      }
    }
  } finally {
    await second.stop();
  }
  result.ratio = ratios(result.values.stowage, result.values['tenants-64']);
  result.detail = `${setup} Two Stowage servers on the same index and bucket; wrk -t1 -c${CONNECTIONS_PER_SERVER} against each at once, every request a new key; the 64-tenant load sends each request with the next of 64 tokens. p99 is the higher of the two servers'.`;
  ctx.record(result);
}
