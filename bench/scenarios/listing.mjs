// With a large data set (bench/dataset.mjs, a direct index load): server start-up time (spawn to
// the "serving" line), one list page of 1000, iterList over every key through the client, and
// last (it empties the data set) a delete by prefix of every key while another client reads.
// Runs after the other scenarios, with the other servers stopped.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { run } from '../procs.mjs';
import { issueToken, REPO, startStowage } from '../servers.mjs';
import { sleep } from '../stats.mjs';

export async function runListing(ctx) {
  const count = ctx.datasetKeys;
  const scale = count.toLocaleString('en-US');
  const dir = path.join(ctx.work, 'dataset');
  mkdirSync(dir, { recursive: true });
  const first = await startStowage(dir);
  await first.stop();
  ctx.log(`dataset: loading ${scale} keys into ${dir}/index.sqlite`);
  const load = await run(
    process.execPath,
    [path.join(REPO, 'bench/dataset.mjs'), '--data-dir', dir, '--count', String(count), '--user', 'bench'],
    { cwd: REPO },
  );
  if (load.code !== 0) throw new Error(`bench/dataset.mjs failed: ${load.stderr}`);
  const loaded = JSON.parse(load.stdout.trim());
  ctx.log(`dataset: ${loaded.inserted} rows in ${loaded.seconds.toFixed(1)} s, index ${(loaded.indexBytes / 2 ** 20).toFixed(0)} MiB`);
  ctx.dataset = { count, ...loaded };
  const token = await issueToken(dir);
  await run('sync', []);

  const startup = {
    id: 'startup',
    figure: `Server start-up with ${scale} keys stored (spawn to "serving" line)`,
    unit: 's',
    values: { stowage: [] },
    issues: [],
    scaled: count,
  };
  const list = {
    id: 'list',
    figure: `List one page of 1000 with ${scale} keys stored, p50`,
    unit: 'ms',
    values: { stowage: [] },
    p99Ms: { stowage: [] },
    issues: [],
    scaled: count,
  };
  const iter = {
    id: 'iterlist',
    figure: `iterList over ${scale} keys through the client`,
    unit: 's',
    values: { stowage: [] },
    issues: [],
    scaled: count,
  };
  const listRequests = ctx.quick ? 200 : 500;
  for (let rep = 0; rep < ctx.reps; rep++) {
    const server = await startStowage(dir);
    try {
      startup.values.stowage.push(server.startupMs / 1000);
      ctx.log(`startup rep ${rep + 1}: ${server.startupMs.toFixed(0)} ms`);
      await sleep(1000);
      const env = { ...process.env, BENCH_URL: server.url, BENCH_TOKEN: token };
      const worker = path.join(REPO, 'bench/latency-worker.mjs');
      const listed = await run(process.execPath, [worker, 'list', String(count), String(listRequests)], { cwd: REPO, env });
      if (listed.code === 0) {
        const r = JSON.parse(listed.stdout.trim());
        list.values.stowage.push(r.p50Ms);
        list.p99Ms.stowage.push(r.p99Ms);
        ctx.log(`list rep ${rep + 1}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (${r.n} pages)`);
      } else list.issues.push(`repetition ${rep + 1}: ${listed.stderr.trim().split('\n').slice(-3).join(' ')}`);
      const iterated = await run(process.execPath, [worker, 'iterlist', String(count)], { cwd: REPO, env });
      if (iterated.code === 0) {
        const r = JSON.parse(iterated.stdout.trim());
        iter.values.stowage.push(r.seconds);
        ctx.log(`iterList rep ${rep + 1}: ${r.keys} keys in ${r.seconds.toFixed(2)} s`);
      } else iter.issues.push(`repetition ${rep + 1}: ${iterated.stderr.trim().split('\n').slice(-3).join(' ')}`);
    } finally {
      await server.stop();
    }
  }
  ctx.record(startup);
  ctx.record(list);
  ctx.record(iter);
  ctx.record(await deleteEverything(ctx, dir, token, scale));
}

/** One repetition only: the delete empties the data set. */
async function deleteEverything(ctx, dir, token, scale) {
  const row = {
    id: 'delete-prefix',
    figure: `Delete by prefix of ${scale} keys, one request`,
    unit: 's',
    values: { stowage: [] },
    issues: [],
    scaled: ctx.datasetKeys,
  };
  const server = await startStowage(dir);
  try {
    const env = { ...process.env, BENCH_URL: server.url, BENCH_TOKEN: token };
    const deleted = await run(process.execPath, [path.join(REPO, 'bench/latency-worker.mjs'), 'delete-prefix', String(ctx.datasetKeys)], {
      cwd: REPO,
      env,
    });
    if (deleted.code !== 0) row.issues.push(deleted.stderr.trim().split('\n').slice(-3).join(' '));
    else {
      const r = JSON.parse(deleted.stdout.trim());
      row.values.stowage.push(r.seconds);
      row.issues.push(`meanwhile another client's GETs were all served: ${r.reads} reads, p99 ${r.readP99Ms.toFixed(1)} ms`);
      ctx.log(
        `delete-prefix: ${r.deleted} keys in ${r.seconds.toFixed(2)} s; ${r.reads} reads meanwhile, p99 ${r.readP99Ms.toFixed(1)} ms`,
      );
    }
  } finally {
    await server.stop();
  }
  return row;
}
