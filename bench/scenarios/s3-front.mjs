// The S3 front against the v1 API of the same embedded Stowage (durable, blob files) and against
// Ceph RGW, in the scale-out phase where RGW runs. 1 KiB GET and PUT: the same load generator for
// all three (bench/s3-worker.mjs: undici, 16 loops), on presigned URLs for the S3 API and RGW (so
// each request's signature is checked, and the client signs nothing) and with a bearer token for
// v1. 1 GiB up and down: `aws s3 cp` (multipart upload, as users run it) to Stowage's S3 port and
// to RGW, curl for v1. Each participant's order is rotated in each repetition.
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, waitForOutput, which } from '../procs.mjs';
import { cleanEnv, issueToken, REPO, STOWAGE_BIN, startStowage } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { curlTransfer } from './large.mjs';

export const S3_FRONT_IDS = ['s3-get', 's3-put', 's3-complete', 's3-upload', 's3-download'];
/** The object s3-complete completes: 1,280 parts of 8 MiB, 10 GiB. */
const COMPLETE_PARTS = 1280;
const COMPLETE_PART_BYTES = 8 * 1024 * 1024;
const SMALL_BYTES = 1024;
const CONCURRENCY = 16;
const LARGE_KEY = 'bench-s3-1g';

/** `aws s3 cp FROM TO` against ENDPOINT with KEYS; resolves its wall time and whether it worked. */
async function awsCopy(aws, endpoint, keys, from, to) {
  const env = {
    ...cleanEnv(),
    AWS_ACCESS_KEY_ID: keys.id,
    AWS_SECRET_ACCESS_KEY: keys.secret,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  // A download goes to stdout and on to /dev/null, as curl's does.
  const command = `${aws} --endpoint-url ${endpoint} s3 cp --only-show-errors ${from} ${to}${to === '-' ? ' > /dev/null' : ''}`;
  const result = await run('bash', ['-c', command], { env });
  return { ok: result.code === 0, seconds: result.ms / 1000, problem: result.stderr.trim().split('\n').slice(-2).join(' ') };
}

/** Runs each participant `reps` times in rotated order; records one row. */
async function measureRow(ctx, row, participants, { unit, figureOf }) {
  const result = { ...row, unit, ref: 'v1', values: {}, p99Ms: {}, order: [], issues: [] };
  for (let rep = 0; rep < ctx.reps; rep++) {
    const order = rotated(participants, rep);
    result.order.push(order.map((p) => p.name));
    for (const p of order) {
      const r = await p.measure();
      const value = figureOf(r);
      append(result.values, p.name, value);
      if (r.p99Ms !== undefined) append(result.p99Ms, p.name, r.p99Ms);
      if (!Number.isFinite(value))
        result.issues.push(`${p.name} repetition ${rep + 1}: ${r.problem ?? `${r.errors} failed (${r.firstError})`}`);
      ctx.log(`${row.id} rep ${rep + 1} ${p.name}: ${Number.isFinite(value) ? Math.round(value) : 'INVALID'} ${unit}`);
      await sleep(500);
    }
  }
  result.ratio = ratios(result.values.stowage, result.values.v1);
  ctx.record(result);
}

export async function measureS3Front(ctx, { dir, store, bucket, worker }) {
  const selected = (id) => !ctx.only || ctx.only.includes(id);
  const dataDir = path.join(dir, 's3-front');
  const stowage = await startStowage(dataDir, { name: 'stowage-s3-front', env: { STOWAGE_S3_PORT: '0' } });
  try {
    const s3Root = (await waitForOutput(stowage.child, /S3 API: \S+ and (http:\/\/\S+)/, 10_000))[1];
    const token = await issueToken(dataDir);
    const created = await run(process.execPath, [STOWAGE_BIN, 'keys', 'create', '--user', 'bench', '--data-dir', dataDir, '--json'], {
      cwd: REPO,
      env: cleanEnv(),
    });
    const { client_id: id, client_secret: secret } = JSON.parse(created.stdout);
    const stowageKeys = { id, secret };
    const rgwKeys = { id: store.S3_ACCESS_KEY, secret: store.S3_SECRET_KEY };
    const small = path.join(dir, 'small-1k.bin');
    writeFileSync(small, Buffer.alloc(SMALL_BYTES, 's'));
    const seeded = await fetch(`${stowage.url}/data/set/bench-1k`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: Buffer.alloc(SMALL_BYTES, 's'),
    });
    await seeded.arrayBuffer();
    if (!seeded.ok) throw new Error(`storing bench-1k on the S3 front's server failed: ${seeded.status}`);
    await worker(store, ['put-s3', bucket, 'direct/bench-1k', small]);
    const presigned = async (method, endpoint, where, key, keys) =>
      (await worker(store, ['presign', method, endpoint, where, key, keys.id, keys.secret])).url;
    const load = (mode, url, bearer) => () =>
      worker({ ...store, BENCH_TOKEN: bearer ?? '' }, [mode, url, SMALL_BYTES, CONCURRENCY, ctx.warmSeconds, ctx.seconds]);
    const perSecond = { unit: 'req/s', figureOf: (r) => (r.errors === 0 && r.requests > 0 ? r.rps : Number.NaN) };

    if (selected('s3-get'))
      await measureRow(
        ctx,
        { id: 's3-get', figure: `S3 API GetObject 1 KiB, ${CONCURRENCY} concurrent (undici on presigned URLs; v1 with a bearer token)` },
        [
          { name: 'stowage', measure: load('get-http', await presigned('GET', s3Root, 'data', 'bench-1k', stowageKeys)) },
          { name: 'v1', measure: load('get-http', `${stowage.url}/data/get/bench-1k`, token) },
          { name: 'rgw', measure: load('get-http', await presigned('GET', store.S3_ENDPOINT, bucket, 'direct/bench-1k', rgwKeys)) },
        ],
        perSecond,
      );
    if (selected('s3-put'))
      await measureRow(
        ctx,
        {
          id: 's3-put',
          figure: `S3 API PutObject 1 KiB over one key, ${CONCURRENCY} concurrent (undici on presigned URLs; v1 with a bearer token)`,
        },
        [
          { name: 'stowage', measure: load('put-http', await presigned('PUT', s3Root, 'data', 'bench-s3-put', stowageKeys)) },
          { name: 'v1', measure: load('put-http', `${stowage.url}/data/set/bench-v1-put`, token) },
          { name: 'rgw', measure: load('put-http', await presigned('PUT', store.S3_ENDPOINT, bucket, 'direct/bench-put', rgwKeys)) },
        ],
        perSecond,
      );

    if (selected('s3-complete')) ctx.record(await measureCompletion(ctx, { s3Root, stowageKeys, worker, dir }));

    const aws = which('aws');
    const large = S3_FRONT_IDS.slice(3).filter(selected);
    if (large.length === 0) return;
    if (!aws) {
      for (const id of large) ctx.record({ id, skipped: 'the AWS CLI is not installed (Debian: apt-get install awscli)' });
      return;
    }
    ctx.largeSize ??= statSync(ctx.largeFile).size;
    const transfers = { token, largeFile: ctx.largeFile, largeSize: ctx.largeSize };
    const rate = (r) => (r.ok ? ctx.largeSize / r.seconds / 1e6 : Number.NaN);
    const byMegabytes = { unit: 'MB/s', figureOf: (r) => r.mbps ?? rate(r) };
    const v1Url = `${stowage.url}/data/set/${LARGE_KEY}-v1`;
    await measureRow(
      ctx,
      { id: 's3-upload', figure: 'S3 API: upload 1 GiB (aws s3 cp: multipart, 8 MiB parts; v1: curl, one PUT)' },
      [
        { name: 'stowage', measure: () => awsCopy(aws, s3Root, stowageKeys, ctx.largeFile, `s3://data/${LARGE_KEY}`) },
        { name: 'v1', measure: () => curlTransfer(transfers, v1Url, 'upload') },
        { name: 'rgw', measure: () => awsCopy(aws, store.S3_ENDPOINT, rgwKeys, ctx.largeFile, `s3://${bucket}/direct/${LARGE_KEY}`) },
      ],
      byMegabytes,
    );
    await measureRow(
      ctx,
      { id: 's3-download', figure: 'S3 API: download 1 GiB (aws s3 cp to stdout; v1: curl)' },
      [
        { name: 'stowage', measure: () => awsCopy(aws, s3Root, stowageKeys, `s3://data/${LARGE_KEY}`, '-') },
        { name: 'v1', measure: () => curlTransfer(transfers, `${stowage.url}/data/get/${LARGE_KEY}-v1`, 'download') },
        { name: 'rgw', measure: () => awsCopy(aws, store.S3_ENDPOINT, rgwKeys, `s3://${bucket}/direct/${LARGE_KEY}`, '-') },
      ],
      byMegabytes,
    );
    await worker(store, ['delete-s3', bucket, `direct/${LARGE_KEY}`]);
  } finally {
    await stowage.stop();
  }
}

/**
 * CompleteMultipartUpload of 10 GiB: 1,280 parts, each an UploadPartCopy of one 8 MiB object (a
 * part that names the source's blob, so the upload costs no 10 GiB of disk), completed and timed
 * alone by the AWS SDK (bench/s3-worker.mjs complete-s3).
 */
async function measureCompletion(ctx, { s3Root, stowageKeys, worker, dir }) {
  const row = {
    id: 's3-complete',
    figure: `CompleteMultipartUpload of ${COMPLETE_PARTS} parts of 8 MiB (10 GiB), each part an UploadPartCopy of one object`,
    unit: 's',
    values: { stowage: [] },
    issues: [],
  };
  const endpoint = { S3_ENDPOINT: s3Root, S3_ACCESS_KEY: stowageKeys.id, S3_SECRET_KEY: stowageKeys.secret, S3_REGION: 'us-east-1' };
  const source = path.join(dir, 'part-8m.bin');
  writeFileSync(source, Buffer.alloc(COMPLETE_PART_BYTES, 'p'));
  await worker(endpoint, ['put-s3', 'data', 'bench-part-8m', source]);
  for (let rep = 0; rep < ctx.reps; rep++) {
    const r = await worker(endpoint, ['complete-s3', 'data', 'bench-complete-10g', 'bench-part-8m', String(COMPLETE_PARTS)]);
    row.values.stowage.push(r.completeMs / 1000);
    ctx.log(
      `s3-complete rep ${rep + 1}: ${(r.size / 1024 ** 3).toFixed(0)} GiB in ${r.parts} parts completed in ${Math.round(r.completeMs)} ms`,
    );
  }
  row.detail = `The object is a composite of its parts (a manifest of their blobs), committed with the removal of the parts' rows: no byte is read or written, so the time grows with the number of parts, not their bytes.`;
  return row;
}
