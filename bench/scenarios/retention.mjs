// What retention costs: PUT 1 KiB over existing keys (wrk), and a delete by prefix of a data set
// (bench/dataset.mjs), each on a server with STOWAGE_RETENTION=7d (overwritten and deleted values
// kept as versions, a delete marker per deleted key) against the same build with retention off,
// in the same run, the order rotated in each repetition.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { run } from '../procs.mjs';
import { issueToken, REPO, startStowage } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { runWrk } from '../wrk.mjs';

export const RETENTION_IDS = ['retention-overwrite', 'retention-delete-prefix'];
/** The two settings compared: the row's "Stowage" is retention on, its reference retention off. */
const SETTINGS = [
  { name: 'stowage', env: { STOWAGE_RETENTION: '7d' } },
  { name: 'retention-off', env: { STOWAGE_RETENTION: '0' } },
];
const DELETE_KEYS = 100_000;

export async function runRetention(ctx) {
  const selected = (id) => !ctx.only || ctx.only.includes(id);
  if (selected('retention-overwrite')) ctx.record(await measureOverwrite(ctx));
  if (selected('retention-delete-prefix')) ctx.record(await measureDeletePrefix(ctx));
}

async function measureOverwrite(ctx) {
  const result = {
    id: 'retention-overwrite',
    figure: 'PUT 1 KiB overwrite (64 keys per wrk thread), retention 7 days against retention off',
    unit: 'req/s',
    ref: 'retention-off',
    values: {},
    p99Ms: {},
    order: [],
    issues: [],
  };
  if (ctx.wrk.skipped) return { ...result, skipped: ctx.wrk.skipped };
  const servers = [];
  try {
    for (const setting of SETTINGS) {
      const dir = path.join(ctx.work, `overwrite-${setting.name}`);
      mkdirSync(dir, { recursive: true });
      const server = await startStowage(dir, { name: setting.name, env: setting.env });
      servers.push({ ...server, basePath: new URL(server.url).pathname, token: await issueToken(dir) });
    }
    const wrkRun = (server, seconds) =>
      runWrk(ctx.wrk.binary, {
        origin: server.origin,
        mode: 'put-overwrite',
        path: `${server.basePath}/data/set/`,
        keyPrefix: 'ow',
        headers: { Authorization: `Bearer ${server.token}` },
        seconds,
      });
    // The warm-up also writes every key once, so the measured PUTs all replace a value.
    for (const server of servers) await wrkRun(server, ctx.warmSeconds);
    for (let rep = 0; rep < ctx.reps; rep++) {
      result.order.push(rotated(servers, rep).map((server) => server.name));
      for (const server of rotated(servers, rep)) {
        await run('sync', []);
        const r = await wrkRun(server, ctx.seconds);
        append(result.values, server.name, r.valid ? r.rps : Number.NaN);
        append(result.p99Ms, server.name, r.valid ? r.p99Ms : Number.NaN);
        if (!r.valid) result.issues.push(`${server.name} repetition ${rep + 1}: ${r.errors} failed requests of ${r.requests}`);
        ctx.log(`retention-overwrite rep ${rep + 1} ${server.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99Ms} ms`);
        await sleep(1000);
      }
    }
  } finally {
    for (const server of servers) await server.stop();
  }
  result.ratio = ratios(result.values.stowage, result.values['retention-off']);
  result.detail =
    'Retention on: each overwrite also copies the replaced row into the versions table, in the same transaction; the versions’ key and purge orders are filed every 2,048 versions, in a commit of their own. Both servers durable, each on a data directory of its own.';
  const parts = await measureOverwriteParts(ctx);
  if (parts) result.detail += ` The index's own put, 64 keys per commit (bench/retention-breakdown.mjs), in µs per put: ${parts}.`;
  return result;
}

/** bench/retention-breakdown.mjs's figures as a sentence, or undefined (and an issue noted) if it failed. */
async function measureOverwriteParts(ctx) {
  const args = [path.join(REPO, 'bench/retention-breakdown.mjs'), '--rounds', ctx.quick ? '300' : '1000', '--reps', ctx.quick ? '1' : '3'];
  const measured = await run(process.execPath, args, { cwd: REPO });
  if (measured.code !== 0) {
    ctx.log(`retention-breakdown failed: ${measured.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return undefined;
  }
  const figures = JSON.parse(measured.stdout.trim());
  return Object.entries(figures)
    .map(([name, us]) => `${name} ${us}`)
    .join(', ');
}

async function measureDeletePrefix(ctx) {
  const count = Math.min(DELETE_KEYS, ctx.datasetKeys);
  const scale = count.toLocaleString('en-US');
  const result = {
    id: 'retention-delete-prefix',
    figure: `Delete by prefix of ${scale} keys, one request, retention 7 days against retention off`,
    unit: 's',
    ref: 'retention-off',
    values: {},
    order: [],
    issues: [],
  };
  // One data set, copied afresh for every delete (each delete empties its copy).
  const template = path.join(ctx.work, 'retention-dataset');
  mkdirSync(template, { recursive: true });
  await (await startStowage(template)).stop();
  const load = await run(process.execPath, [path.join(REPO, 'bench/dataset.mjs'), '--data-dir', template, '--count', String(count)], {
    cwd: REPO,
  });
  if (load.code !== 0) throw new Error(`bench/dataset.mjs failed: ${load.stderr}`);
  const token = await issueToken(template);
  for (let rep = 0; rep < ctx.reps; rep++) {
    result.order.push(rotated(SETTINGS, rep).map((setting) => setting.name));
    for (const setting of rotated(SETTINGS, rep)) {
      const dir = path.join(ctx.work, `retention-delete-${setting.name}`);
      rmSync(dir, { recursive: true, force: true });
      cpSync(template, dir, { recursive: true });
      await run('sync', []);
      const server = await startStowage(dir, { name: setting.name, env: setting.env });
      try {
        const env = { ...process.env, BENCH_URL: server.url, BENCH_TOKEN: token };
        const deleted = await run(process.execPath, [path.join(REPO, 'bench/latency-worker.mjs'), 'delete-prefix', String(count)], {
          cwd: REPO,
          env,
        });
        if (deleted.code !== 0) {
          append(result.values, setting.name, Number.NaN);
          result.issues.push(`${setting.name} repetition ${rep + 1}: ${deleted.stderr.trim().split('\n').slice(-2).join(' ')}`);
        } else {
          const r = JSON.parse(deleted.stdout.trim());
          append(result.values, setting.name, r.seconds);
          ctx.log(`retention-delete-prefix rep ${rep + 1} ${setting.name}: ${r.deleted} keys in ${r.seconds.toFixed(2)} s`);
        }
      } finally {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  result.ratio = ratios(result.values.stowage, result.values['retention-off']);
  result.detail = `Retention on: every deleted key's row is marked deleted where it is, in the batch's transaction, and filed into the versions table (the value and a delete marker) by the sweeper later (${scale} keys of bench/dataset.mjs, each delete on a fresh copy of one data set; another client reads meanwhile, as in the 1,000,000-key row).`;
  return result;
}
