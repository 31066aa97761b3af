#!/usr/bin/env node
// npm run bench [-- --quick] [--out FILE] [--reps N] [--seconds N] [--keys N] [--only ID,ID]
// [--scale-out | --no-scale-out] [--scale-out-mib N] [--render FILE.json]: starts the references (bench/node-ceiling.mjs,
// nginx) and Stowage, measures every scenario with the order of servers rotated in each
// repetition, prints the table and writes docs/BENCHMARKS.md, and its data as docs/BENCHMARKS.json
// (--render writes the report again from such a file). Not a test: nothing asserts timings.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureAb } from './ab.mjs';
import { writeMarkdown } from './markdown.mjs';
import { startNginx } from './nginx.mjs';
import { killAllNow, run, stopAll, which } from './procs.mjs';
import { resultsTable, TARGETS } from './report.mjs';
import { runBackup } from './scenarios/backup.mjs';
import { runCli } from './scenarios/cli.mjs';
import { runClient } from './scenarios/client.mjs';
import { runFlood } from './scenarios/flood.mjs';
import { measureFootprint } from './scenarios/footprint.mjs';
import { runHead } from './scenarios/head.mjs';
import { runLarge } from './scenarios/large.mjs';
import { runListing } from './scenarios/listing.mjs';
import { RETENTION_IDS, runRetention } from './scenarios/retention.mjs';
import { runScaleOut, SCALE_OUT_IDS } from './scenarios/scale-out.mjs';
import { runSmall, SMALL_KEY } from './scenarios/small.mjs';
import { issueToken, REPO, startNodeCeiling, startStowage } from './servers.mjs';
import { ensureWrk } from './wrk.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const outAt = argv.indexOf('--out');
const outFile = path.resolve(REPO, outAt === -1 ? 'docs/BENCHMARKS.md' : argv[outAt + 1]);
/** `--NAME N`: a positive integer option, or undefined. */
function count(name) {
  const at = argv.indexOf(`--${name}`);
  if (at === -1) return undefined;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a positive integer`);
  return value;
}
/** `--only ID,ID`: the scenario ids to run (the ids of the targets table, and `footprint`), or undefined for all. */
function onlyIds() {
  const at = argv.indexOf('--only');
  if (at === -1) return undefined;
  const ids = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const known = [...TARGETS.map((t) => t.id), 'footprint'];
  const unknown = ids.filter((id) => !known.includes(id));
  if (ids.length === 0 || unknown.length) throw new Error(`--only takes a comma-separated list of: ${known.join(', ')}`);
  return ids;
}
const only = onlyIds();
/** The run's measurements, saved as JSON beside the Markdown report. */
const resultsFile = outFile.replace(/\.md$/, '') + '.json';
const renderAt = argv.indexOf('--render');
const renderFrom = renderAt === -1 ? undefined : path.resolve(argv[renderAt + 1] ?? '');
/** What the report needs of a run's context, besides its results. */
const SAVED_CONTEXT = ['quick', 'only', 'reps', 'seconds', 'warmSeconds', 'datasetKeys', 'dataset', 'machine', 'minutes', 'skipped'];
if (argv.includes('--scale-out') && argv.includes('--no-scale-out'))
  throw new Error('--scale-out and --no-scale-out contradict each other');
/** auto: run the PostgreSQL + S3 scenarios when the services start, else skip them with the reason; required: fail instead. */
const scaleOut = argv.includes('--no-scale-out') ? 'off' : argv.includes('--scale-out') ? 'required' : 'auto';

const work = mkdtempSync(path.join(os.tmpdir(), 'stowage-bench-'));
const startedAt = Date.now();
const loadAtStart = os
  .loadavg()
  .map((v) => v.toFixed(2))
  .join(' ');
const log = (line) => process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

let cleaned = false;
function removeWork() {
  if (cleaned) return;
  cleaned = true;
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', () => {
  killAllNow();
  removeWork();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    log(`${signal}: stopping every server the benchmark started`);
    stopAll().finally(() => {
      removeWork();
      process.exit(130);
    });
  });
}

/** A file of `size` bytes of random data (1 MiB of it, repeated), written for real (not sparse). */
async function writeFile(file, size) {
  const block = randomBytes(Math.min(size, 1024 * 1024));
  const handle = await open(file, 'w');
  try {
    for (let written = 0; written < size; written += block.length) await handle.write(block, 0, Math.min(block.length, size - written));
  } finally {
    await handle.close();
  }
}

async function machine(wrk, nginx, ab) {
  const cpus = os.cpus();
  const curl = (await run('curl', ['--version'])).stdout.split(' ')[1];
  const commit = (await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO })).stdout.trim();
  const dirty = (await run('git', ['status', '--porcelain', '--', 'packages'], { cwd: REPO })).stdout.trim() !== '';
  return {
    cpu: `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    tools: [
      `curl ${curl}`,
      wrk.skipped ? 'wrk: missing' : `wrk ${wrk.version}`,
      ...(ab ? [ab.skipped ? 'ab: missing' : `ab ${ab.version}`] : []),
      nginx?.version ?? 'nginx: missing',
    ].join(', '),
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load: loadAtStart,
    cores: cpus.length,
    busy: Number(loadAtStart.split(' ')[0]) > cpus.length / 2,
    commit: `${commit}${dirty ? ' (with uncommitted changes under packages/)' : ''}`,
  };
}

/** Checks that a server answers the requests the scenarios send, so no error page is measured. */
async function sanityCheck(server, token) {
  const headers = { authorization: `Bearer ${token}` };
  const get =
    server.name === 'stowage'
      ? `${server.url}/data/get/${SMALL_KEY}`
      : `${server.origin}${server.name === 'nginx' ? '/small.bin' : '/small'}`;
  const put = server.name === 'stowage' ? `${server.url}/data/set/bench-check` : `${server.origin}/put/bench-check`;
  const got = await fetch(get, { headers });
  const body = await got.arrayBuffer();
  if (got.status !== 200 || body.byteLength !== 1024)
    throw new Error(`${server.name}: GET ${get} answered ${got.status} with ${body.byteLength} bytes`);
  const stored = await fetch(put, { method: 'PUT', headers, body: Buffer.alloc(1024, 'c') });
  await stored.arrayBuffer();
  if (stored.status < 200 || stored.status > 299) throw new Error(`${server.name}: PUT ${put} answered ${stored.status}`);
}

async function main() {
  log(`${quick ? 'quick' : 'full'} run; work dir ${work}; load average ${loadAtStart}`);
  if (os.loadavg()[0] > os.cpus().length / 2) log('the machine is busy: other work will show in the numbers');
  if (!which('curl')) throw new Error('curl is required (Debian: apt-get install curl)');
  const ctx = {
    quick,
    work,
    log,
    runId: randomBytes(4).toString('hex'),
    reps: count('reps') ?? (quick ? 1 : 3),
    largeReps: count('reps') ?? (quick ? 1 : 3),
    seconds: count('seconds') ?? (quick ? 5 : 10),
    warmSeconds: quick ? 2 : 3,
    datasetKeys: count('keys') ?? (quick ? 100_000 : 1_000_000),
    only,
    scaleOut,
    scaleOutUploadMiB: count('scale-out-mib'),
    results: [],
    skipped: [],
    record(result) {
      ctx.results.push(result);
    },
  };
  const selected = (ids) => !only || ids.some((id) => only.includes(id));
  if (only) log(`only: ${only.join(', ')}`);
  ctx.wrk = await ensureWrk(log);
  if (ctx.wrk.skipped) log(`skipping the wrk scenarios: ${ctx.wrk.skipped}`);
  if (selected(['head'])) {
    ctx.ab = await ensureAb(log);
    if (ctx.ab.skipped) log(`skipping HEAD: ${ctx.ab.skipped}`);
  }

  const root = path.join(work, 'www');
  mkdirSync(root, { recursive: true });
  ctx.largeFile = path.join(root, 'large.bin');
  // The 1 GiB file only for the scenarios that send it (nginx serves it too: an empty file then).
  const needLarge =
    selected(['upload', 'upload-resumable', 'download', 'download-offload', 's3-upload', 's3-download']) ||
    (selected(['pg-s3-upload', 'pg-s3-resumable']) && !ctx.scaleOutUploadMiB);
  log(`writing the 1 KiB${needLarge ? ' and 1 GiB' : ''} files`);
  await writeFile(path.join(root, 'small.bin'), 1024);
  await writeFile(ctx.largeFile, needLarge ? 2 ** 30 : 0);
  // Write the 1 GiB back now: left to the kernel, it would be flushed ~30 s later, under a measurement.
  await run('sync', []);

  ctx.stowageDataDir = path.join(work, 'stowage');
  mkdirSync(ctx.stowageDataDir);
  // Read offload to nginx applies only to requests through nginx's offload server (which says it
  // follows X-Accel-Redirect): every other row measures Stowage serving the bytes itself. A
  // replaced blob goes after the least grace nginx offload takes (1 s, where it would be 0 without
  // offload), so the rows that overwrite measure what they did.
  const stowage = await startStowage(ctx.stowageDataDir, { env: { STOWAGE_READ_OFFLOAD: 'nginx', STOWAGE_REPLACED_BLOB_GRACE: '1s' } });
  stowage.basePath = new URL(stowage.url).pathname;
  ctx.stowage = stowage;
  ctx.token = await issueToken(ctx.stowageDataDir);
  const seeded = await fetch(`${stowage.url}/data/set/${SMALL_KEY}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(1024, 'x'),
  });
  await seeded.arrayBuffer();
  if (!seeded.ok) throw new Error(`storing ${SMALL_KEY} failed: ${seeded.status}`);
  log(`Stowage serving ${stowage.url} (pid ${stowage.pid}, data in ${ctx.stowageDataDir})`);

  const node = await startNodeCeiling({ largeFile: ctx.largeFile, putDir: path.join(work, 'node-put') });
  log(`node-ceiling serving ${node.origin} (pid ${node.pid})`);
  const nginx = await startNginx({
    dir: path.join(work, 'nginx'),
    root,
    log,
    offload: { origin: stowage.origin, blobDir: path.join(ctx.stowageDataDir, 'blobs') },
  });
  if (nginx.skipped) {
    ctx.skipped.push(`nginx: ${nginx.skipped}`);
    log(`no nginx reference: ${nginx.skipped}`);
  } else log(`nginx serving ${nginx.origin} (pid ${nginx.pid}, ${nginx.version})`);
  ctx.servers = [stowage, node, ...(nginx.skipped ? [] : [nginx])];
  ctx.offloadOrigin = nginx.offloadOrigin;
  for (const server of ctx.servers) await sanityCheck(server, ctx.token);
  ctx.machine = await machine(ctx.wrk, nginx.skipped ? undefined : nginx, ctx.ab);

  const phases = [
    ['small requests', ['get', 'put-new', 'put-overwrite'], () => runSmall(ctx)],
    ['disk footprint', ['footprint'], () => measureFootprint(ctx)],
    ['HEAD', ['head'], () => runHead(ctx)],
    ['TS client', ['client-get'], () => runClient(ctx)],
    ['CLI exists', ['cli-exists'], () => runCli(ctx)],
    ['a newcomer during a flood', ['fresh-connection'], () => runFlood(ctx)],
    ['1 GiB transfers', ['upload', 'upload-resumable', 'download', 'download-offload'], () => runLarge(ctx)],
    ['retention', RETENTION_IDS, () => runRetention(ctx)],
    ['backup', ['backup'], () => runBackup(ctx)],
    [
      'data set',
      ['startup', 'list', 'iterlist', 'delete-prefix'],
      async () => {
        for (const server of ctx.servers) await server.stop();
        await runListing(ctx);
      },
    ],
    ['PostgreSQL + S3', SCALE_OUT_IDS, () => runScaleOut(ctx)],
  ];
  for (const [name, ids, phase] of phases) {
    if (!selected(ids)) continue;
    log(`--- ${name}`);
    try {
      await run('sync', []);
      await phase();
    } catch (error) {
      log(`${name} failed: ${error.stack ?? error}`);
      for (const id of ids)
        if (!ctx.results.some((r) => r.id === id))
          ctx.record({ id, skipped: `the scenario failed: ${String(error.message ?? error).split('\n')[0]}` });
    }
  }
  await stopAll();

  ctx.minutes = (Date.now() - startedAt) / 60_000;
  ctx.machine.loadEnd = os.loadavg()[0].toFixed(2);
  // The measurements as data beside the report: `--render` writes the report again from them.
  const saved = Object.fromEntries(SAVED_CONTEXT.map((key) => [key, ctx[key]]));
  writeFileSync(resultsFile, `${JSON.stringify({ ctx: saved, results: ctx.results }, null, 1)}\n`);
  report(ctx);
}

/** Prints the table and writes the Markdown report. */
function report(ctx) {
  const { table, notes } = resultsTable(ctx.results);
  process.stdout.write(`\nMachine: ${ctx.machine.cpu}; Node ${ctx.machine.node}; ${ctx.machine.date}\n\n${table}\n\n`);
  for (const [i, note] of notes.entries()) process.stdout.write(`[${i + 1}] ${note}\n`);
  writeMarkdown(outFile, { ctx, table, notes });
  log(`wrote ${path.relative(REPO, outFile)} (${ctx.minutes.toFixed(1)} minutes)`);
}

if (renderFrom) {
  // `--render FILE.json`: the report of a saved run, e.g. after the report's text changed.
  const { ctx, results } = JSON.parse(readFileSync(renderFrom, 'utf8'));
  removeWork();
  report({ ...ctx, results });
} else {
  try {
    await main();
  } finally {
    await stopAll();
    removeWork();
  }
}
