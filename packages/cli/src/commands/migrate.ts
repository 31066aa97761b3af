import { createRequire } from 'node:module';
import path from 'node:path';
import type * as CliProgress from 'cli-progress';
import type { Command } from 'commander';
import type { MigrateEndpoint, MigrateProgress, MigrateReport } from 'stowage-server/admin';
import { formatBytes } from '../format-bytes.js';

interface MigrateFlags {
  toIndex?: string;
  toBlobs?: string;
  fromIndex?: string;
  fromBlobs?: string;
  dataDir?: string;
  s3Endpoint?: string;
  final?: boolean;
  verify: boolean;
  json?: boolean;
}

/** Exit codes: what a script running migrations needs to tell apart. */
const EXIT = { ok: 0, incomplete: 1, usage: 2, failed: 4 } as const;

const HELP = `
Copies everything a deployment holds (objects with their metadata and expiry, named buckets and
grants, bucket CORS settings, API keys, quotas; usage is recomputed) between a data directory and
PostgreSQL + S3. The S3 endpoint, region and keys come from STOWAGE_S3_* as for stowage serve, the
schema from STOWAGE_INDEX_SCHEMA. Resumable: run it again after a crash, it goes on. The source may
keep serving during a first run; then stop it and run again with --final. Resumable uploads in
progress are not migrated: let them finish, or cancel them, before the final pass.

API keys stay usable only with the same server secret: start the new servers with
STOWAGE_JWT_SECRET set to the source's (for a data directory, the contents of DATA_DIR/secret.key
unless it was served with STOWAGE_JWT_SECRET).

Exit codes:
  0  done, and every object verified
  1  objects that failed verification, or (--final) rows left out because their blob is gone
     from the source
  2  bad flags
  4  the migration could not run (a store does not answer, a data directory is in use)

Examples:
  $ stowage migrate --data-dir /srv/stowage --to-index postgres://stowage@db/stowage --to-blobs s3://acme-stowage/prod
  $ stowage migrate --data-dir /srv/stowage --to-index postgres://stowage@db/stowage --to-blobs s3://acme-stowage/prod --final
  $ stowage migrate --from-index postgres://stowage@db/stowage --from-blobs s3://acme-stowage/prod --data-dir /srv/back --final`;

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('Copy a data directory into PostgreSQL + S3 (--to-index, --to-blobs), or back (--from-index, --from-blobs)')
    .option('--to-index <url>', 'postgres:// URL of the destination index')
    .option('--to-blobs <s3url>', 's3://BUCKET/PREFIX of the destination blobs')
    .option('--from-index <url>', 'postgres:// URL of the source index')
    .option('--from-blobs <s3url>', 's3://BUCKET/PREFIX of the source blobs')
    .option('--data-dir <d>', 'the data directory copied from, or to (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (Ceph RGW, MinIO, GCS); omit for AWS (env STOWAGE_S3_ENDPOINT)')
    .option('--final', 'the catch-up pass, with the source stopped: also removes what the source no longer has')
    .option('--no-verify', 'skip reading every object back from the destination to check its sha256')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', HELP)
    .action(async (flags: MigrateFlags) => {
      const { ConfigError, loadConfig, parseScaleOutStorage } = await import('stowage-server/config');
      const toScaleOut = flags.toIndex !== undefined || flags.toBlobs !== undefined;
      const fromScaleOut = flags.fromIndex !== undefined || flags.fromBlobs !== undefined;
      if (toScaleOut === fromScaleOut) {
        return usage('give either --to-index and --to-blobs (from the data directory) or --from-index and --from-blobs (to it)');
      }
      const index = toScaleOut ? flags.toIndex : flags.fromIndex;
      const blobs = toScaleOut ? flags.toBlobs : flags.fromBlobs;
      if (!index || !blobs) return usage(`${toScaleOut ? '--to-index and --to-blobs' : '--from-index and --from-blobs'} go together`);
      let scaleOut: MigrateEndpoint;
      let dataDir: string;
      let blobTimeoutMs: number;
      try {
        scaleOut = { kind: 'scale-out', ...parseScaleOutStorage({ index, blobs, s3Endpoint: flags.s3Endpoint }, process.env) };
        ({ dataDir, blobTimeoutMs } = loadConfig(process.env, { dataDir: flags.dataDir, index: 'sqlite', blobs: 'files' }));
      } catch (error) {
        if (error instanceof ConfigError) return usage(error.message);
        throw error;
      }
      const local: MigrateEndpoint = { kind: 'data-dir', dataDir };
      const admin = await import('stowage-server/admin');
      const failpoints = admin.createFailpoint(admin.parseFailpoints(process.env.STOWAGE_FAILPOINTS ?? ''));
      const progress = createMigrateProgress(Boolean(process.stderr.isTTY) && !flags.json);
      let report: MigrateReport;
      try {
        report = await admin.migrate({
          from: toScaleOut ? local : scaleOut,
          to: toScaleOut ? scaleOut : local,
          final: Boolean(flags.final),
          verify: flags.verify,
          blobTimeoutMs,
          failpoint: failpoints,
          onProgress: progress.update,
        });
      } catch (error) {
        progress.stop();
        process.stderr.write(`stowage migrate: ${(error as Error).message}\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      progress.stop();
      const notes: string[] = [];
      const secret = process.env.STOWAGE_JWT_SECRET;
      if (toScaleOut) {
        if (secret && admin.secretOpensApiKeys(dataDir, secret) === true)
          notes.push('The API keys open with this STOWAGE_JWT_SECRET: start the servers with it.');
        else
          notes.push(
            `Start the servers with STOWAGE_JWT_SECRET="$(cat ${path.join(dataDir, 'secret.key')})" (the data directory's secret), ` +
              'or with the STOWAGE_JWT_SECRET the embedded server was started with: with another, API keys, tokens and URLs stop working.',
          );
      } else if (secret) {
        const adopted = await admin.adoptServerSecret(dataDir, secret);
        if (adopted === 'written')
          notes.push(`STOWAGE_JWT_SECRET is now the data directory's secret (${path.join(dataDir, 'secret.key')}).`);
        if (adopted === 'differs')
          notes.push(
            `${path.join(dataDir, 'secret.key')} holds another secret than STOWAGE_JWT_SECRET: serve with STOWAGE_JWT_SECRET set.`,
          );
      } else {
        notes.push("Serve the data directory with the deployment's STOWAGE_JWT_SECRET, or its API keys and tokens stop working.");
      }
      if (report.openUploads > 0)
        notes.push(`${report.openUploads} resumable uploads in progress at the source were not migrated: their clients start them again.`);
      if (!flags.final)
        notes.push('Stop the source (or make it read-only) and run again with --final to catch up and remove what it deleted.');
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, notes));
      process.exitCode = report.ok ? EXIT.ok : EXIT.incomplete;
    });
}

function usage(message: string): void {
  process.stderr.write(`stowage migrate: ${message}\n`);
  process.exitCode = EXIT.usage;
}

function formatReport(report: MigrateReport, notes: string[]): string {
  const lines: string[] = [];
  for (const [table, counts] of Object.entries(report.tables))
    lines.push(`${table}: ${counts.written} written, ${counts.unchanged} unchanged${counts.removed ? `, ${counts.removed} removed` : ''}`);
  const { blobs } = report;
  const rate = blobs.bytesCopied / 1024 ** 2 / Math.max(report.copySeconds, 0.001);
  lines.push(
    `blobs: ${blobs.copied} copied (${formatBytes(blobs.bytesCopied)}), ${blobs.present} already there; ` +
      `${report.copySeconds.toFixed(1)} s, ${rate.toFixed(1)} MiB/s`,
  );
  if (report.final) {
    for (const missing of report.missingBlobs.slice(0, 20))
      lines.push(`left out: ${missing.table} ${missing.key}: blob ${missing.blobId} is gone from the source`);
    if (report.missingBlobs.length > 0)
      lines.push(`${report.missingBlobs.length} rows left out: their blob is gone from the stopped source (run stowage fsck on it)`);
  } else if (report.missingBlobs.length > 0) {
    lines.push(`${report.missingBlobs.length} rows changed while they were copied: the next pass copies them`);
  }
  if (report.verified) {
    const { verified } = report;
    for (const mismatch of verified.mismatches.slice(0, 20)) lines.push(`MISMATCH ${mismatch.table} ${mismatch.key}: ${mismatch.problem}`);
    lines.push(
      verified.mismatches.length === 0
        ? `verified: ${verified.objects} objects, ${formatBytes(verified.bytes)} read back in ${(report.seconds - report.copySeconds).toFixed(1)} s, every sha256 matches`
        : `verification FAILED: ${verified.mismatches.length} of ${verified.objects} objects`,
    );
  }
  for (const note of notes) lines.push(`note: ${note}`);
  lines.push(report.ok ? 'done' : 'incomplete');
  return `${lines.join('\n')}\n`;
}

/** A bar on a terminal; otherwise a line every few seconds and at each phase's end. */
function createMigrateProgress(tty: boolean) {
  let bar: CliProgress.SingleBar | undefined;
  let phase: string | undefined;
  let lastLine = 0;
  let printed = '';
  let last: MigrateProgress | undefined;
  const print = (p: MigrateProgress) => {
    const text = `${p.phase} ${p.table}: ${p.rows}/${p.totalRows} rows, ${formatBytes(p.bytes)}/${formatBytes(p.totalBytes)}`;
    if (text !== printed) process.stderr.write(`${text}\n`);
    printed = text;
    lastLine = Date.now();
  };
  const stop = () => {
    if (bar) bar.stop();
    else if (last) print(last);
    bar = undefined;
  };
  return {
    update(p: MigrateProgress) {
      if (p.phase !== phase) {
        stop();
        phase = p.phase;
        if (tty) {
          const { SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
          bar = new SingleBar({
            format: `${p.phase} [{bar}] {value}/{total} rows | {done}/{all} | {table}`,
            stream: process.stderr,
            hideCursor: true,
          });
          bar.start(p.totalRows, p.rows, { done: formatBytes(p.bytes), all: formatBytes(p.totalBytes), table: p.table });
        } else print(p);
      }
      last = p;
      if (bar) bar.update(p.rows, { done: formatBytes(p.bytes), all: formatBytes(p.totalBytes), table: p.table });
      else if (Date.now() - lastLine > 2_000) print(p);
    },
    stop,
  };
}
