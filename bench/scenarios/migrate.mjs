// `stowage migrate` of the blob data set into PostgreSQL + RGW against a plain copy of its blob
// files into the same bucket (the AWS SDK, 8 PutObjects in flight, as migrate copies 8 at once),
// the order rotated in each repetition; each to a fresh schema and bucket prefix, emptied after.
import path from 'node:path';
import { run } from '../procs.mjs';
import { cleanEnv, REPO, STOWAGE_BIN } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';
import { blobDataset, OBJECT_BYTES } from './blob-dataset.mjs';

const IN_FLIGHT = 8;

/**
 * `services`: { bucket, pgUrl, store (S3_* variables), s3Env (STOWAGE_S3_* variables), cephConf,
 * worker(env, args) }, the scale-out phase's running PostgreSQL and RGW.
 */
export async function runMigrate(ctx, { bucket, pgUrl, store, s3Env, cephConf, worker }) {
  const data = await blobDataset(ctx);
  const mib = (data.bytes / 2 ** 20).toFixed(0);
  const result = {
    id: 'migrate',
    figure: `stowage migrate of ${data.objects} objects of ${OBJECT_BYTES / 1024} KiB (${mib} MiB) from a data directory into PostgreSQL + RGW, sha256 of every object verified`,
    unit: 'MB/s',
    ref: 'sdk-copy',
    values: {},
    order: [],
    issues: [],
  };
  const objectsPerSecond = [];
  const participants = [
    {
      name: 'stowage',
      copy: async (rep) => {
        const migrated = await run(
          process.execPath,
          [STOWAGE_BIN, 'migrate', '--data-dir', data.dir, '--to-index', pgUrl, '--to-blobs', `s3://${bucket}/migrate-${rep}`, '--json'],
          { cwd: REPO, env: cleanEnv({ ...s3Env, STOWAGE_INDEX_SCHEMA: `bench_migrate_${rep}` }) },
        );
        return { ok: migrated.code === 0, seconds: migrated.ms / 1000, problem: migrated.stderr.trim().split('\n').slice(-2).join(' ') };
      },
      prefix: (rep) => `migrate-${rep}/`,
    },
    {
      name: 'sdk-copy',
      copy: async (rep) => {
        const r = await worker(store, ['put-dir-s3', bucket, `plain-${rep}`, path.join(data.dir, 'blobs'), IN_FLIGHT]);
        return { ok: r.objects === data.objects, seconds: r.seconds, problem: `copied ${r.objects} files` };
      },
      prefix: (rep) => `plain-${rep}/`,
    },
  ];
  for (let rep = 0; rep < ctx.reps; rep++) {
    result.order.push(rotated(participants, rep).map((p) => p.name));
    for (const p of rotated(participants, rep)) {
      const copied = await p.copy(rep);
      append(result.values, p.name, copied.ok ? data.bytes / copied.seconds / 1e6 : Number.NaN);
      if (p.name === 'stowage' && copied.ok) objectsPerSecond.push(data.objects / copied.seconds);
      if (!copied.ok) result.issues.push(`${p.name} repetition ${rep + 1}: ${copied.problem}`);
      ctx.log(`migrate rep ${rep + 1} ${p.name}: ${copied.seconds.toFixed(2)} s${copied.ok ? '' : ' FAILED'}`);
      // Untimed: the RAM-backed OSD gets its space back before the next copy.
      await worker(store, ['empty-s3', bucket, p.prefix(rep)]);
      await run('radosgw-admin', ['-c', cephConf, 'gc', 'process', '--include-all']);
      await sleep(1000);
    }
  }
  result.ratio = ratios(result.values.stowage, result.values['sdk-copy']);
  const rate = objectsPerSecond.map((v) => Math.round(v).toLocaleString('en-US')).join(', ');
  result.detail = `Migrate: ${rate} objects/s, timed from the command's start (a new \`stowage\` process: it creates the schema, copies the index rows and the blobs ${IN_FLIGHT} at once, then reads every object back to check its sha256) to its exit; the reference puts the same blob files into the same bucket with the AWS SDK, ${IN_FLIGHT} at once, and reads nothing back.`;
  ctx.record(result);
}
