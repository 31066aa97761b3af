// Small requests under load (wrk -t2 -c32): GET 1 KiB, PUT 1 KiB to a new key, PUT 1 KiB over an
// existing key; Stowage against node-ceiling and nginx, the order rotated in each repetition. GET's
// note breaks its cost down per request, stage by stage (get-breakdown.mjs).

import { describeBreakdown } from '../cpu-breakdown.mjs';
import { run as runCommand } from '../procs.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { runWrk } from '../wrk.mjs';
import { measureGetBreakdown } from './get-breakdown.mjs';

/** The key GET reads: 1 KiB, stored by the harness before the runs. */
export const SMALL_KEY = 'bench-1k';

const SCENARIOS = [
  {
    id: 'get',
    figure: 'GET 1 KiB, authenticated, 32 connections',
    mode: 'get',
    path: (server) =>
      server.name === 'stowage' ? `${server.basePath}/data/get/${SMALL_KEY}` : server.name === 'nginx' ? '/small.bin' : '/small',
  },
  {
    id: 'put-new',
    figure: 'PUT 1 KiB new key, 32 connections (Stowage durable)',
    mode: 'put-new',
    path: (server) => (server.name === 'stowage' ? `${server.basePath}/data/set/` : '/put/'),
  },
  {
    id: 'put-overwrite',
    figure: 'PUT 1 KiB overwrite (64 keys per wrk thread)',
    mode: 'put-overwrite',
    path: (server) => (server.name === 'stowage' ? `${server.basePath}/data/set/` : '/put/'),
  },
];

/** GET's cost per request, stage by stage, beside node-ceiling's (get-breakdown.mjs), as the row's note. */
async function addBreakdown(ctx, result) {
  try {
    const breakdown = await measureGetBreakdown(ctx);
    result.breakdown = breakdown;
    result.detail = `CPU per request, in µs, from profiles of a server of each kind under the same load (node --cpu-prof, which slows both): Stowage: ${describeBreakdown(breakdown.stowage)}. node-ceiling: ${describeBreakdown(breakdown.node)}.`;
  } catch (error) {
    result.issues.push(`the profile of GET could not be taken: ${error.message ?? error}`);
  }
}

function syncDisks() {
  return runCommand('sync', []);
}

export async function runSmall(ctx) {
  for (const scenario of SCENARIOS) {
    const result = { id: scenario.id, figure: scenario.figure, unit: 'req/s', ref: 'node', values: {}, p99Ms: {}, p50Ms: {}, issues: [] };
    if (ctx.wrk.skipped) {
      ctx.record({ ...result, skipped: ctx.wrk.skipped });
      continue;
    }
    const headers = { Authorization: `Bearer ${ctx.token}` };
    const keyPrefix = (label) => (scenario.mode === 'put-overwrite' ? `ow-${ctx.runId}` : `${label}-${ctx.runId}`);
    ctx.log(`${scenario.id}: warm-up ${ctx.warmSeconds} s per server`);
    for (const server of ctx.servers) {
      await runWrk(ctx.wrk.binary, {
        origin: server.origin,
        mode: scenario.mode,
        path: scenario.path(server),
        keyPrefix: keyPrefix(`warm-${server.name}`),
        headers,
        seconds: ctx.warmSeconds,
      });
      await sleep(500);
    }
    result.order = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      result.order.push(rotated(ctx.servers, rep).map((server) => server.name));
      for (const server of rotated(ctx.servers, rep)) {
        // What the previous run left dirty in the page cache is written back now, untimed.
        await syncDisks();
        const run = await runWrk(ctx.wrk.binary, {
          origin: server.origin,
          mode: scenario.mode,
          path: scenario.path(server),
          keyPrefix: keyPrefix(`r${rep}-${server.name}`),
          headers,
          seconds: ctx.seconds,
        });
        append(result.values, server.name, run.valid ? run.rps : Number.NaN);
        append(result.p99Ms, server.name, run.valid ? run.p99Ms : Number.NaN);
        append(result.p50Ms, server.name, run.valid ? run.p50Ms : Number.NaN);
        if (!run.valid)
          result.issues.push(
            `${server.name} repetition ${rep + 1}: ${run.errors} failed requests (${run.statusErrors} non-2xx) of ${run.requests}`,
          );
        ctx.log(
          `${scenario.id} rep ${rep + 1} ${server.name}: ${Math.round(run.rps)} req/s, p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms${run.valid ? '' : ' INVALID'}`,
        );
        await sleep(1000);
      }
    }
    result.ratio = ratios(result.values.stowage, result.values.node);
    if (scenario.id === 'get') await addBreakdown(ctx, result);
    ctx.record(result);
  }
}
