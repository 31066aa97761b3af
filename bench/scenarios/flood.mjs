// A newcomer during a flood: one user floods Stowage with 500 keep-alive connections (GET and PUT
// of 1 KiB, bench/flood-worker.mjs), far past its share of requests in flight, while another user
// times requests on new connections (bench/latency-worker.mjs fresh-connection). Refused clients
// must not crowd a newcomer's connection out of the listen queue. Stowage alone: the references
// have no admission control to refuse with.
import path from 'node:path';
import { run, startTracked, stopProcess, waitForOutput } from '../procs.mjs';
import { issueToken, REPO } from '../servers.mjs';
import { append, sleep } from '../stats.mjs';
import { SMALL_KEY } from './small.mjs';

export const FLOOD_CONNECTIONS = 500;
const NEWCOMER_KEY = 'newcomer-1k';

export async function runFlood(ctx) {
  const result = {
    id: 'fresh-connection',
    figure: `GET on a new connection of another user while one user floods with ${FLOOD_CONNECTIONS} keep-alive connections, p99`,
    unit: 'ms',
    values: {},
    issues: [],
  };
  const { stowage } = ctx;
  const newcomer = await issueToken(ctx.stowageDataDir, 'newcomer');
  const stored = await fetch(`${stowage.url}/data/set/${NEWCOMER_KEY}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${newcomer}` },
    body: Buffer.alloc(1024, 'n'),
  });
  await stored.arrayBuffer();
  if (!stored.ok) throw new Error(`storing ${NEWCOMER_KEY} failed: ${stored.status}`);

  const floods = [];
  for (let rep = 0; rep < ctx.reps; rep++) {
    // The flood runs until the probes are done; its own cap only guards against a hung probe.
    const flood = startTracked(
      process.execPath,
      [path.join(REPO, 'bench/flood-worker.mjs'), String(FLOOD_CONNECTIONS), String(ctx.seconds + 120), SMALL_KEY],
      { cwd: REPO, env: { ...process.env, BENCH_URL: stowage.url, BENCH_TOKEN: ctx.token } },
    );
    await waitForOutput(flood, /^flooding$/m, 60_000);
    await sleep(ctx.warmSeconds * 1000);
    const probe = await run(
      process.execPath,
      [path.join(REPO, 'bench/latency-worker.mjs'), 'fresh-connection', NEWCOMER_KEY, String(ctx.seconds)],
      { cwd: REPO, env: { ...process.env, BENCH_URL: stowage.url, BENCH_TOKEN: newcomer } },
    );
    await stopProcess(flood);
    const line = flood.output.match(/^(\{.*\})$/m);
    if (probe.code !== 0 || !line) {
      result.issues.push(`repetition ${rep + 1}: ${(probe.stderr || flood.output).trim().split('\n').slice(-3).join(' ')}`);
      continue;
    }
    const r = JSON.parse(probe.stdout.trim().split('\n').pop());
    const f = JSON.parse(line[1]);
    floods.push(f);
    append(result.values, 'stowage', r.freshP99Ms);
    append(result.values, 'kept-alive', r.keptP99Ms);
    ctx.log(
      `fresh-connection rep ${rep + 1}: new connection p50 ${r.freshP50Ms.toFixed(1)} ms, p99 ${r.freshP99Ms.toFixed(1)} ms, max ${r.freshMaxMs.toFixed(1)} ms (/healthz p99 ${r.healthzP99Ms.toFixed(1)} ms; ${r.n} probes, statuses ${JSON.stringify(r.statuses)}); kept-alive p99 ${r.keptP99Ms.toFixed(1)} ms; flood: ${f.requests} answers ${JSON.stringify(f.statuses)}, ${f.reconnects} reconnections, ${f.errors} errors`,
    );
    await sleep(1000);
  }
  const statuses = {};
  for (const f of floods) for (const [status, n] of Object.entries(f.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const reconnects = floods.reduce((sum, f) => sum + f.reconnects, 0);
  const answers = Object.entries(statuses)
    .map(([status, n]) => `${n.toLocaleString('en-US')} × ${status}`)
    .join(', ');
  result.detail = `The flood (${FLOOD_CONNECTIONS} connections of one user, a GET and a PUT of 1 KiB in turn on each) was answered ${answers}, and opened ${reconnects.toLocaleString('en-US')} new connections after its first ${FLOOD_CONNECTIONS}, over ${floods.length} repetition${floods.length === 1 ? '' : 's'}; the kept-alive reference is the same newcomer's GET on one connection opened before the clock started.`;
  ctx.record(result);
}
