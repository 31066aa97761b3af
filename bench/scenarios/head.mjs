// HEAD (exists) under load: Stowage HEAD of the 1 KiB object against the node-ceiling GET of 1 KiB,
// both driven by ApacheBench (`ab -k -c32`, bench/ab.mjs) so the ratio compares one load generator
// with itself (wrk cannot send HEAD). ab is single-threaded: it uses one of the two cores and
// saturates sooner than wrk -t2, so these req/s are not comparable with the wrk rows.

import { runAb } from '../ab.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { SMALL_KEY } from './small.mjs';

const CONNECTIONS = 32;

export async function runHead(ctx) {
  const result = {
    id: 'head',
    figure: `HEAD 1 KiB (exists), ${CONNECTIONS} connections, vs node-ceiling GET 1 KiB; load generator ab (single-threaded) for both`,
    unit: 'req/s',
    ref: 'node',
    values: {},
    p99Ms: {},
    p50Ms: {},
    issues: [],
  };
  const node = ctx.servers.find((s) => s.name === 'node');
  if (ctx.ab?.skipped || !ctx.ab || !node) {
    ctx.record({ ...result, skipped: node ? (ctx.ab?.skipped ?? 'ab was not looked for') : 'no node-ceiling' });
    return;
  }
  const targets = [
    { name: 'stowage', url: `${ctx.stowage.url}/data/get/${SMALL_KEY}`, head: true },
    { name: 'node', url: `${node.origin}/small`, head: false },
  ];
  const measure = (target, seconds) =>
    runAb(ctx.ab.binary, {
      url: target.url,
      head: target.head,
      headers: { Authorization: `Bearer ${ctx.token}` },
      seconds,
      connections: CONNECTIONS,
      csvDir: ctx.work,
    });
  ctx.log(`head: warm-up ${ctx.warmSeconds} s per server`);
  for (const target of targets) {
    const warm = await measure(target, ctx.warmSeconds);
    if (!warm.valid)
      throw new Error(
        `${target.name} ${target.head ? 'HEAD' : 'GET'} ${target.url}: ${warm.failed} failed and ${warm.non2xx} non-2xx of ${warm.requests} requests in the warm-up`,
      );
    await sleep(500);
  }
  result.order = [];
  let keepAliveLost = 0;
  for (let rep = 0; rep < ctx.reps; rep++) {
    result.order.push(rotated(targets, rep).map((target) => target.name));
    for (const target of rotated(targets, rep)) {
      const r = await measure(target, ctx.seconds);
      append(result.values, target.name, r.valid ? r.rps : Number.NaN);
      append(result.p99Ms, target.name, r.valid ? r.p99Ms : Number.NaN);
      append(result.p50Ms, target.name, r.valid ? r.p50Ms : Number.NaN);
      keepAliveLost += r.requests - r.keepAlive;
      if (!r.valid)
        result.issues.push(
          `${target.name} repetition ${rep + 1}: ${r.failed} failed requests, ${r.non2xx} non-2xx of ${r.requests}: the run is not counted`,
        );
      ctx.log(
        `head rep ${rep + 1} ${target.name} ${target.head ? 'HEAD' : 'GET'}: ${Math.round(r.rps)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms${r.valid ? '' : ' INVALID'}`,
      );
      await sleep(1000);
    }
  }
  result.ratio = ratios(result.values.stowage, result.values.node);
  result.detail = `Load generator: ApacheBench ${ctx.ab.version} (\`ab -k -c${CONNECTIONS} -t${ctx.seconds}\`, \`-i\` for HEAD), single-threaded, for both servers: wrk cannot send HEAD. It drives the load from one core where wrk -t2 uses two, so these req/s are not comparable with the wrk rows'; the ratio compares ab with itself.`;
  if (keepAliveLost > 0) result.issues.push(`${keepAliveLost} requests went out on a new connection (keep-alive not kept)`);
  ctx.record(result);
}
