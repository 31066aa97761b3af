// TS client get() of 1 KiB, sequential, against a raw undici request of the same URL
// (bench/latency-worker.mjs, a fresh process per repetition).
import path from 'node:path';
import { run } from '../procs.mjs';
import { REPO } from '../servers.mjs';
import { append } from '../stats.mjs';
import { SMALL_KEY } from './small.mjs';

export async function runClient(ctx) {
  const result = {
    id: 'client-get',
    figure: 'TS client `get` 1 KiB, sequential, median latency',
    unit: 'µs',
    ref: 'undici',
    values: {},
    issues: [],
  };
  const n = ctx.quick ? 1000 : 3000;
  for (let rep = 0; rep < ctx.reps; rep++) {
    const out = await run(process.execPath, [path.join(REPO, 'bench/latency-worker.mjs'), 'client-get', SMALL_KEY, String(n)], {
      cwd: REPO,
      env: { ...process.env, BENCH_URL: ctx.stowage.url, BENCH_TOKEN: ctx.token },
    });
    if (out.code !== 0) {
      result.issues.push(`repetition ${rep + 1}: ${out.stderr.trim().split('\n').slice(-3).join(' ')}`);
      continue;
    }
    const r = JSON.parse(out.stdout.trim().split('\n').pop());
    append(result.values, 'stowage', r.clientMedianUs);
    append(result.values, 'undici', r.undiciMedianUs);
    ctx.log(
      `client get rep ${rep + 1}: client ${r.clientMedianUs.toFixed(0)} µs, undici ${r.undiciMedianUs.toFixed(0)} µs (median of ${r.n} each)`,
    );
  }
  result.ratio = (result.values.stowage ?? []).map((v, i) => v / result.values.undici[i]);
  ctx.record(result);
}
