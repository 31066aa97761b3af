// The scale-out deployment, PostgreSQL index + S3 blobs (Ceph RGW), against the AWS SDK straight to
// the same store: GET of a 1 MiB object and a 1 GiB upload. PostgreSQL and RGW come from
// scripts/services/*-start.sh into the bench's temp dir and are stopped (--purge) from a finally,
// and by the harness's stopAll()/exit handler if it is interrupted. When they cannot be started the
// two rows are skipped with the reason (or the phase fails, with --scale-out).
//
// GET: Node load generators on both sides at the same concurrency (bench/s3-worker.mjs, a fresh
// process each): undici → Stowage against @aws-sdk/client-s3 GetObject → RGW, every body read to
// the end. wrk -c8 on the Stowage URL runs in the same rotation, for the note only.
// Upload: curl PUT of the 1 GiB file → Stowage (which streams it to RGW as a multipart upload)
// against the SDK: one streamed PutObject, and a multipart upload as @aws-sdk/lib-storage's Upload
// does it (5 MiB parts, 4 in flight); the ratio is to the faster of the two in each repetition.
// Objects are deleted after each upload and RGW's garbage collection is run, untimed, so the
// RAM-backed OSD does not fill.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, trackService } from '../procs.mjs';
import { issueToken, REPO, sampleRss, startStowage } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { runWrk } from '../wrk.mjs';
import { runMigrate } from './migrate.mjs';
import { measureOneTenant } from './one-tenant.mjs';
import { measureS3Front, S3_FRONT_IDS } from './s3-front.mjs';

export const SCALE_OUT_IDS = [
  ...S3_FRONT_IDS,
  'pg-s3-get',
  'pg-s3-get-redirect',
  'pg-s3-upload',
  'pg-s3-resumable',
  'pg-one-tenant',
  'migrate',
];
const BUCKET = 'stowage-bench';
const PREFIX = 'bench';
const GET_KEY = 'bench-1m';
const DIRECT_GET_KEY = 'direct/bench-1m';
const UPLOAD_KEY = 'bench-upload';
const RESUMABLE_KEY = 'bench-upload-resumable';
const GET_BYTES = 2 ** 20;
const CONNECTIONS = 8;
/** RGW's OSD keeps objects in RAM (memstore): room for the 1 GiB uploads, one at a time. */
const MEMSTORE_BYTES = 6 * 2 ** 30;
/** As @aws-sdk/lib-storage's Upload: 5 MiB parts, 4 in flight. */
const MULTIPART = { partMiB: 5, queue: 4 };
const WORKER = path.join(REPO, 'bench/s3-worker.mjs');
const SERVICES = path.join(REPO, 'scripts/services');

/** The KEY=VALUE lines a start script prints (with or without `export `). */
function parseAssignments(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const match = line.match(/^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (match) env[match[1]] = match[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** The last lines of a script's stderr, without its "[name HH:MM:SS]" prefixes. */
const lastLines = (text, n = 3) =>
  text
    .trim()
    .split('\n')
    .slice(-n)
    .map((line) => line.replace(/^\[[^\]]*\]\s*/, ''))
    .join(' | ');

/**
 * scripts/services/KIND-start.sh DIR, registered first so that an interrupted start is stopped too.
 * Resolves { env, stop, seconds }; stop() runs KIND-stop.sh DIR --purge (once).
 */
async function startService(kind, dir, env) {
  mkdirSync(dir, { recursive: true });
  const stopScript = path.join(SERVICES, `${kind}-stop.sh`);
  const stop = trackService({
    name: kind,
    stop: () => run('bash', [stopScript, dir, '--purge'], { cwd: REPO }),
    stopNow: () => spawnSync('bash', [stopScript, dir, '--purge'], { cwd: REPO, stdio: 'ignore', timeout: 60_000 }),
  });
  const started = await run('bash', [path.join(SERVICES, `${kind}-start.sh`), dir], { cwd: REPO, env: { ...process.env, ...env } });
  if (started.code !== 0) {
    await stop();
    throw new Error(`scripts/services/${kind}-start.sh failed (${started.code}): ${lastLines(started.stderr)}`);
  }
  return { env: parseAssignments(started.stdout), stop, seconds: started.ms / 1000 };
}

/** bench/s3-worker.mjs MODE ARGS…: its JSON line. */
async function worker(env, args) {
  const out = await run(process.execPath, [WORKER, ...args.map(String)], { cwd: REPO, env: { ...process.env, ...env } });
  const line = out.stdout.trim().split('\n').pop();
  if (out.code !== 0 || !line) throw new Error(`s3-worker ${args[0]} failed (${out.code}): ${lastLines(out.stderr)}`);
  return JSON.parse(line);
}

/** curl PUT of `file` (single request, `Expect:` off); MB/s = 10^6 bytes per second of curl's total time. */
async function curlUpload(url, token, file, size) {
  const result = await run('curl', [
    '-s',
    '-S',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code} %{size_upload} %{time_total}',
    '-H',
    `Authorization: Bearer ${token}`,
    '-H',
    'Expect:',
    '-T',
    file,
    url,
  ]);
  const [status, uploaded, seconds] = result.stdout.trim().split(' ').map(Number);
  const ok = result.code === 0 && status >= 200 && status < 300 && uploaded === size;
  return {
    ok,
    seconds,
    mbps: ok ? size / seconds / 1e6 : Number.NaN,
    problem: ok ? '' : `HTTP ${status}, ${uploaded} bytes ${result.stderr.trim()}`,
  };
}

async function toolVersion(command, args, pattern) {
  try {
    const out = await run(command, args);
    return `${out.stdout}${out.stderr}`.match(pattern)?.[1];
  } catch {
    return undefined;
  }
}

export async function runScaleOut(ctx) {
  if (ctx.scaleOut === 'off') {
    for (const id of SCALE_OUT_IDS) ctx.record({ id, skipped: 'not run (--no-scale-out)' });
    return;
  }
  const dir = path.join(ctx.work, 'so');
  const stops = [];
  try {
    let pg;
    let rgw;
    try {
      ctx.log('starting PostgreSQL (scripts/services/postgres-start.sh)');
      pg = await startService('postgres', path.join(dir, 'pg'), {});
      stops.push(pg.stop);
      ctx.log(`PostgreSQL ready in ${pg.seconds.toFixed(1)} s; starting Ceph RGW (scripts/services/rgw-start.sh, memstore)`);
      rgw = await startService('rgw', path.join(dir, 'rgw'), { MEMSTORE_BYTES: String(MEMSTORE_BYTES) });
      stops.push(rgw.stop);
      ctx.log(`RGW ready in ${rgw.seconds.toFixed(1)} s at ${rgw.env.S3_ENDPOINT}`);
      if (!pg.env.STOWAGE_TEST_PG_URL || !rgw.env.S3_ENDPOINT) throw new Error('a start script printed no connection settings');
    } catch (error) {
      if (ctx.scaleOut === 'required') throw error;
      const reason = `PostgreSQL + RGW could not be started: ${String(error.message ?? error).split('\n')[0]}`;
      ctx.log(reason);
      for (const id of SCALE_OUT_IDS) ctx.record({ id, skipped: reason });
      return;
    }
    const store = {
      S3_ENDPOINT: rgw.env.S3_ENDPOINT,
      S3_ACCESS_KEY: rgw.env.S3_ACCESS_KEY,
      S3_SECRET_KEY: rgw.env.S3_SECRET_KEY,
      S3_REGION: rgw.env.S3_REGION ?? 'us-east-1',
    };
    const cephConf = path.join(rgw.env.CEPH_DIR ?? path.join(dir, 'rgw'), 'ceph.conf');
    await worker(store, ['create-bucket', BUCKET]);
    const deployment = {
      STOWAGE_INDEX: pg.env.STOWAGE_TEST_PG_URL,
      STOWAGE_BLOBS: `s3://${BUCKET}/${PREFIX}`,
      STOWAGE_S3_ENDPOINT: store.S3_ENDPOINT,
      STOWAGE_S3_ACCESS_KEY_ID: store.S3_ACCESS_KEY,
      STOWAGE_S3_SECRET_ACCESS_KEY: store.S3_SECRET_KEY,
      STOWAGE_S3_REGION: store.S3_REGION,
      STOWAGE_JWT_SECRET: randomBytes(32).toString('base64'),
      // A deleted upload's blob goes at once (default 60 s with S3), so the RAM-backed OSD does not fill.
      STOWAGE_REPLACED_BLOB_GRACE: '0s',
    };
    const stowageDir = path.join(dir, 'stowage');
    mkdirSync(stowageDir, { recursive: true });
    const stowage = await startStowage(stowageDir, { name: 'stowage-s3', env: deployment });
    stops.push(() => stowage.stop());
    const token = await issueToken(stowageDir, 'bench', deployment);
    ctx.log(`Stowage on PostgreSQL + RGW serving ${stowage.url} (pid ${stowage.pid})`);
    const versions = [
      await toolVersion(
        path.join(process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin', 'postgres'),
        ['--version'],
        /PostgreSQL\) ([\d.]+)/,
      ).then((v) => v && `PostgreSQL ${v}`),
      await toolVersion('ceph', ['--version'], /(ceph version [\d.]+)/),
    ].filter(Boolean);
    const setup = `Stowage with STOWAGE_INDEX=postgres://… and STOWAGE_BLOBS=s3://${BUCKET}/${PREFIX} on services from scripts/services/ on this machine: ${versions.join(', ') || 'PostgreSQL and Ceph'}; PostgreSQL with fsync and synchronous_commit off, RGW on a memstore OSD (objects in RAM), as the start scripts configure them for tests, so the store is faster than a real deployment's and the ratio shows Stowage's own cost.`;

    const getFile = path.join(dir, 'get-1m.bin');
    writeFileSync(getFile, randomBytes(GET_BYTES));
    const seeded = await curlUpload(`${stowage.url}/data/set/${GET_KEY}`, token, getFile, GET_BYTES);
    if (!seeded.ok) throw new Error(`storing ${GET_KEY} through Stowage failed: ${seeded.problem}`);
    await worker(store, ['put-s3', BUCKET, DIRECT_GET_KEY, getFile]);

    const selected = (id) => !ctx.only || ctx.only.includes(id);
    if (S3_FRONT_IDS.some(selected)) await measureS3Front(ctx, { dir, store, bucket: BUCKET, worker });
    if (selected('pg-s3-get') || selected('pg-s3-get-redirect')) {
      // A second server on the same index and bucket, which sends large reads to the store (docs/deploy.md, "Read offload").
      const { STOWAGE_REPLACED_BLOB_GRACE: _, ...shared } = deployment;
      const redirecting = await startStowage(path.join(dir, 'stowage-redirect'), {
        name: 'stowage-redirect',
        env: { ...shared, STOWAGE_READ_OFFLOAD: 'redirect' },
      });
      stops.push(() => redirecting.stop());
      await measureGet(ctx, { stowage, redirecting, token, store, setup });
    }
    if (selected('pg-s3-upload') || selected('pg-s3-resumable')) await measureUpload(ctx, { stowage, token, store, cephConf, dir });
    if (selected('pg-one-tenant')) await measureOneTenant(ctx, { stowage, deployment, dir, setup });
    const s3Env = Object.fromEntries(Object.entries(deployment).filter(([name]) => name.startsWith('STOWAGE_S3_')));
    if (selected('migrate')) await runMigrate(ctx, { bucket: BUCKET, pgUrl: pg.env.STOWAGE_TEST_PG_URL, store, s3Env, cephConf, worker });
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        ctx.log(`stopping a scale-out service failed: ${error.message ?? error}`);
      }
    }
  }
}

async function measureGet(ctx, { stowage, redirecting, token, store, setup }) {
  const result = {
    id: 'pg-s3-get',
    figure: `PostgreSQL + S3: GET 1 MiB, ${CONNECTIONS} concurrent, Node load generators (undici → Stowage; AWS SDK GetObject → RGW)`,
    unit: 'MB/s',
    ref: 'sdk',
    values: {},
    p99Ms: {},
    p50Ms: {},
    rssGrowth: {},
    order: [],
    issues: [],
  };
  const warm = ctx.warmSeconds;
  const participants = [
    {
      name: 'stowage',
      measure: () =>
        worker({ ...store, BENCH_TOKEN: token }, [
          'get-http',
          `${stowage.url}/data/get/${GET_KEY}`,
          GET_BYTES,
          CONNECTIONS,
          warm,
          ctx.seconds,
        ]),
    },
    { name: 'sdk', measure: () => worker(store, ['get-s3', BUCKET, DIRECT_GET_KEY, GET_BYTES, CONNECTIONS, warm, ctx.seconds]) },
    {
      name: 'redirect',
      measure: () =>
        worker({ ...store, BENCH_TOKEN: token }, [
          'get-http',
          `${redirecting.url}/data/get/${GET_KEY}`,
          GET_BYTES,
          CONNECTIONS,
          warm,
          ctx.seconds,
        ]),
    },
  ];
  const wrkRuns = [];
  if (!ctx.wrk.skipped)
    participants.push({
      name: 'wrk',
      measure: async () => {
        const path = `${new URL(stowage.url).pathname}/data/get/${GET_KEY}`;
        const options = {
          origin: stowage.origin,
          path,
          headers: { Authorization: `Bearer ${token}` },
          threads: 2,
          connections: CONNECTIONS,
        };
        await runWrk(ctx.wrk.binary, { ...options, seconds: warm });
        const r = await runWrk(ctx.wrk.binary, { ...options, seconds: ctx.seconds });
        return { ...r, mbps: (r.rps * GET_BYTES) / 1e6, errors: r.errors };
      },
    });
  for (let rep = 0; rep < ctx.reps; rep++) {
    const order = rotated(participants, rep);
    result.order.push(order.filter((p) => p.name !== 'wrk').map((p) => p.name));
    for (const p of order) {
      const rss = sampleRss(stowage.pid);
      const r = await p.measure();
      const memory = rss.stop();
      const valid = r.errors === 0 && r.requests > 0;
      if (p.name === 'wrk') wrkRuns.push(valid ? `${Math.round(r.mbps)} MB/s (p99 ${r.p99Ms.toFixed(1)} ms)` : 'invalid');
      else {
        append(result.values, p.name, valid ? r.mbps : Number.NaN);
        append(result.p99Ms, p.name, valid ? r.p99Ms : Number.NaN);
        append(result.p50Ms, p.name, valid ? r.p50Ms : Number.NaN);
        if (p.name === 'stowage') append(result.rssGrowth, p.name, memory.growth);
      }
      if (!valid)
        result.issues.push(
          `${p.name} GET repetition ${rep + 1}: ${r.errors} failed of ${r.requests + r.errors}${r.firstError ? ` (${r.firstError})` : ''}`,
        );
      ctx.log(
        `pg-s3 GET rep ${rep + 1} ${p.name}: ${Math.round(r.mbps)} MB/s, p50 ${r.p50Ms?.toFixed(1)} ms, p99 ${r.p99Ms?.toFixed(1)} ms${valid ? '' : ' INVALID'}`,
      );
      await sleep(1000);
    }
  }
  const redirect = {
    id: 'pg-s3-get-redirect',
    figure: `PostgreSQL + S3: GET 1 MiB, ${CONNECTIONS} concurrent, read offload by redirect (undici → Stowage → 307 → the presigned URL; AWS SDK GetObject → RGW)`,
    unit: 'MB/s',
    ref: 'sdk',
    values: { stowage: result.values.redirect, sdk: result.values.sdk },
    p99Ms: { stowage: result.p99Ms.redirect, sdk: result.p99Ms.sdk },
    p50Ms: { stowage: result.p50Ms.redirect, sdk: result.p50Ms.sdk },
    order: result.order.map((order) => order.filter((name) => name !== 'stowage').map((name) => (name === 'redirect' ? 'stowage' : name))),
    issues: result.issues.filter((issue) => issue.startsWith('redirect')),
    ratio: ratios(result.values.redirect, result.values.sdk),
    detail: `${setup} A second server on the same index and bucket with STOWAGE_READ_OFFLOAD=redirect; each GET is Stowage's 307 and then the presigned GET, on the same keep-alive connections, timed together.`,
  };
  for (const field of ['values', 'p99Ms', 'p50Ms']) delete result[field].redirect;
  result.order = result.order.map((order) => order.filter((name) => name !== 'redirect'));
  result.issues = result.issues.filter((issue) => !issue.startsWith('redirect'));
  result.ratio = ratios(result.values.stowage, result.values.sdk);
  result.detail = `${setup} GET: ${CONNECTIONS} concurrent loops in one Node process for each side (undici Agent with Authorization: Bearer; S3Client with a keep-alive agent), ${warm} s warm-up then ${ctx.seconds} s, every body read to the end.${
    wrkRuns.length ? ` wrk -t2 -c${CONNECTIONS} on the same Stowage URL: ${wrkRuns.join(', ')}.` : ''
  }`;
  ctx.record(result);
  ctx.record(redirect);
}

async function measureUpload(ctx, { stowage, token, store, cephConf, dir }) {
  let file = ctx.largeFile;
  if (ctx.scaleOutUploadMiB) {
    file = path.join(dir, 'upload.bin');
    const block = randomBytes(2 ** 20);
    writeFileSync(file, Buffer.alloc(0));
    for (let i = 0; i < ctx.scaleOutUploadMiB; i++) writeFileSync(file, block, { flag: 'a' });
  }
  const size = statSync(file).size;
  const label = size === 2 ** 30 ? '1 GiB' : `${size / 2 ** 20} MiB`;
  const result = {
    id: 'pg-s3-upload',
    figure: `PostgreSQL + S3: ${label} upload (curl PUT → Stowage; AWS SDK → RGW: PutObject, and multipart ${MULTIPART.partMiB} MiB × ${MULTIPART.queue})`,
    unit: 'MB/s',
    ref: 'sdk-best',
    values: {},
    rssGrowth: {},
    order: [],
    issues: [],
  };
  if (size !== 2 ** 30) result.asterisk = `Measured with a ${label} upload (--scale-out-mib); the target is for 1 GiB.`;
  const participants = [
    { name: 'stowage', transfer: () => curlUpload(`${stowage.url}/data/set/${UPLOAD_KEY}`, token, file, size) },
    {
      name: 'resumable',
      transfer: async () => {
        const out = await run(process.execPath, [path.join(REPO, 'bench/latency-worker.mjs'), 'setfile', RESUMABLE_KEY, file], {
          cwd: REPO,
          env: { ...process.env, BENCH_URL: stowage.url, BENCH_TOKEN: token },
        });
        if (out.code !== 0) return { ok: false, mbps: Number.NaN, problem: out.stderr.trim().split('\n').slice(-3).join(' ') };
        const r = JSON.parse(out.stdout.trim().split('\n').pop());
        return { ok: r.size === size, seconds: r.seconds, mbps: r.mbps, problem: `stored ${r.size} bytes` };
      },
    },
    {
      name: 'sdk',
      transfer: async () => {
        const r = await worker(store, ['put-s3', BUCKET, 'direct/upload', file]);
        return { ok: r.size === size, seconds: r.seconds, mbps: r.mbps, problem: `stored ${r.size} bytes` };
      },
    },
    {
      name: 'sdk-multipart',
      transfer: async () => {
        const r = await worker(store, ['multipart-s3', BUCKET, 'direct/upload-multipart', file, MULTIPART.partMiB, MULTIPART.queue]);
        return { ok: r.size === size, seconds: r.seconds, mbps: r.mbps, problem: `stored ${r.size} bytes` };
      },
    },
  ];
  const forgetStowage = (key) => async () => {
    const deleted = await fetch(`${stowage.url}/data/${key}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    await deleted.arrayBuffer();
    // Stowage deletes the blob just after (replaced-blob grace 0): wait until only the 1 MiB one is left.
    for (let i = 0; i < 60; i++) {
      const listed = await worker(store, ['count-s3', BUCKET, `${PREFIX}/`]);
      if (listed.bytes <= GET_BYTES) break;
      await sleep(500);
    }
  };
  const forget = {
    stowage: forgetStowage(UPLOAD_KEY),
    resumable: forgetStowage(RESUMABLE_KEY),
    sdk: () => worker(store, ['delete-s3', BUCKET, 'direct/upload']),
    'sdk-multipart': () => worker(store, ['delete-s3', BUCKET, 'direct/upload-multipart']),
  };
  for (let rep = 0; rep < ctx.largeReps; rep++) {
    const order = rotated(participants, rep);
    result.order.push(order.map((p) => p.name));
    for (const p of order) {
      const rss = sampleRss(stowage.pid);
      let transfer;
      try {
        transfer = await p.transfer();
      } catch (error) {
        transfer = { ok: false, mbps: Number.NaN, problem: String(error.message ?? error) };
      }
      const memory = rss.stop();
      append(result.values, p.name, transfer.ok ? transfer.mbps : Number.NaN);
      if (p.name === 'stowage') append(result.rssGrowth, p.name, memory.growth);
      if (!transfer.ok) result.issues.push(`${p.name} upload repetition ${rep + 1}: ${transfer.problem}`);
      ctx.log(
        `pg-s3 upload rep ${rep + 1} ${p.name}: ${Math.round(transfer.mbps)} MB/s${p.name === 'stowage' ? `, Stowage RSS +${(memory.growth / 2 ** 20).toFixed(1)} MiB` : ''}${transfer.ok ? '' : ' FAILED'}`,
      );
      // Untimed: drop the object and let RGW reclaim its space now rather than in a minute.
      await forget[p.name]();
      await run('radosgw-admin', ['-c', cephConf, 'gc', 'process', '--include-all']);
      await sleep(1000);
    }
  }
  // The resumable upload has its own row, against Stowage's single PUT of the same run.
  const resumable = {
    id: 'pg-s3-resumable',
    figure: `PostgreSQL + S3: ${label} upload, TS client setFile (upload URL, the file in one request made durable every 64 MiB, hashed as it goes) against Stowage's single PUT (curl)`,
    unit: 'MB/s',
    ref: 'single-put',
    values: { stowage: result.values.resumable ?? [], 'single-put': result.values.stowage ?? [] },
    order: result.order.map((order) => order.filter((name) => name === 'stowage' || name === 'resumable')),
    issues: result.issues.filter((issue) => issue.startsWith('resumable')),
    ...(result.asterisk && { asterisk: result.asterisk }),
  };
  resumable.ratio = ratios(resumable.values.stowage, resumable.values['single-put']);
  if (!ctx.only || ctx.only.includes('pg-s3-resumable')) ctx.record(resumable);
  delete result.values.resumable;
  result.issues = result.issues.filter((issue) => !issue.startsWith('resumable'));
  result.order = result.order.map((order) => order.filter((name) => name !== 'resumable'));
  const best = (result.values.sdk ?? []).map((v, i) => Math.max(v, result.values['sdk-multipart']?.[i] ?? Number.NaN));
  result.ratio = ratios(result.values.stowage, best);
  result.detail = `Upload: one transfer at a time; Stowage streams a known-length body to RGW as a multipart upload of 8 MiB parts, 2 in flight; the SDK side reads the file from a fresh Node process (PutObject: one streamed request with its ContentLength; multipart: ${MULTIPART.partMiB} MiB parts, ${MULTIPART.queue} in flight, as @aws-sdk/lib-storage's Upload defaults), timed from the first request to the answer. The ratio is to the faster SDK way in each repetition. After each upload the object is deleted and \`radosgw-admin gc process\` runs, untimed.`;
  if (!ctx.only || ctx.only.includes('pg-s3-upload')) ctx.record(result);
}
