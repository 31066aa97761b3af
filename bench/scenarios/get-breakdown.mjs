// The cost of one small GET, stage by stage (bench/cpu-breakdown.mjs): a Stowage and a node-ceiling
// of their own, each run under node --cpu-prof and the GET row's load (wrk -t2 -c32) for the
// row's time, then stopped so that the profile is written. Profiling slows both alike; the
// figures are µs of CPU per request, not the row's throughput.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { cpuBreakdown } from '../cpu-breakdown.mjs';
import { issueToken, startNodeCeiling, startStowage } from '../servers.mjs';
import { runWrk } from '../wrk.mjs';
import { SMALL_KEY } from './small.mjs';

function profileIn(dir) {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile was written in ${dir}`);
  return path.join(dir, file);
}

/** Runs `start()`'s server under GET `urlPath` with the profiler on; resolves the requests it served. */
async function profiled(ctx, { start, urlPath, headers }) {
  const server = await start();
  try {
    const load = { origin: server.origin, path: urlPath(server), headers: headers() };
    await runWrk(ctx.wrk.binary, { ...load, seconds: ctx.warmSeconds });
    const run = await runWrk(ctx.wrk.binary, { ...load, seconds: ctx.seconds });
    if (!run.valid) throw new Error(`the profiled GET load had ${run.errors} failed requests`);
    return run.requests;
  } finally {
    await server.stop();
  }
}

/** { stowage, node } breakdowns of GET 1 KiB. */
export async function measureGetBreakdown(ctx) {
  const dir = path.join(ctx.work, 'get-profile');
  const stowageProfiles = path.join(dir, 'stowage-profile');
  const nodeProfiles = path.join(dir, 'node-profile');
  const dataDir = path.join(dir, 'stowage');
  let token;
  const stowageRequests = await profiled(ctx, {
    start: async () => {
      const server = await startStowage(dataDir, {
        name: 'stowage-profiled',
        nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${stowageProfiles}`],
      });
      token = await issueToken(dataDir);
      const stored = await fetch(`${server.url}/data/set/${SMALL_KEY}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}` },
        body: Buffer.alloc(1024, 'x'),
      });
      await stored.arrayBuffer();
      if (!stored.ok) throw new Error(`storing ${SMALL_KEY} on the profiled server failed: ${stored.status}`);
      server.basePath = new URL(server.url).pathname;
      return server;
    },
    urlPath: (server) => `${server.basePath}/data/get/${SMALL_KEY}`,
    headers: () => ({ Authorization: `Bearer ${token}` }),
  });
  const nodeRequests = await profiled(ctx, {
    start: () =>
      startNodeCeiling({
        largeFile: ctx.largeFile,
        putDir: path.join(dir, 'node-put'),
        nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${nodeProfiles}`],
      }),
    urlPath: () => '/small',
    headers: () => ({}),
  });
  return {
    stowage: cpuBreakdown(profileIn(stowageProfiles), stowageRequests),
    node: cpuBreakdown(profileIn(nodeProfiles), nodeRequests),
  };
}
