import { type Command, InvalidArgumentError } from 'commander';
import type { BackupProgress, BackupReport, RestoreProgress, RestoreReport } from 'stowage-server/admin';
import { formatBytes } from '../format-bytes.js';
import { createProgress } from '../progress.js';

/** Without a terminal, one progress line per this many blobs (and one per phase). */
const LINE_EVERY = 1000;

const EXIT_CODES = `
Exit codes:
  0  done: the backup (or the restored data directory) is complete
  2  refused: bad flags, a deployment it does not cover, a data directory that is not
     empty; without pg_dump, the documented commands to run by hand are printed
  3  done, but values the index names were missing or damaged at the source (or in the
     backup, for restore-backup): they are listed, the rest is complete
  4  could not finish (an I/O error, a store that does not answer): run it again to finish it`;

interface BackupFlags {
  dataDir?: string;
  jobs?: number;
  json?: boolean;
}

export function registerBackupCommands(program: Command): void {
  program
    .command('backup <destination>')
    .description(
      'Back up while the server serves: a consistent snapshot of the index, then the blobs it names, into a directory or s3://BUCKET/PREFIX; run again to copy only what is new',
    )
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('-j, --jobs <n>', 'blobs copied at once (default 8)', parseJobs)
    .option('--json', 'print the report (with the manifest) as JSON')
    .addHelpText(
      'after',
      `${EXIT_CODES}\n\nAn s3:// destination is reached with STOWAGE_S3_ENDPOINT, STOWAGE_S3_REGION and the keys, as the S3 blob store is.
With STOWAGE_INDEX=postgres://… and STOWAGE_BLOBS=s3://…, it runs pg_dump, then copies the blobs the dump names.

Examples:
  $ stowage backup /backups/stowage --data-dir /srv/stowage
  $ stowage backup s3://acme-backups/stowage --data-dir /srv/stowage`,
    )
    .action(async (destination: string, flags: BackupFlags) => {
      const { loadConfig } = await import('stowage-server/config');
      const { backup, BackupError } = await import('stowage-server/admin');
      const progress = progressReporter('backup', flags.json === true);
      try {
        const report = await backup({
          config: loadConfig(process.env, { dataDir: flags.dataDir }),
          destination,
          env: process.env,
          jobs: flags.jobs,
          onProgress: progress.update,
        });
        progress.stop();
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatBackup(report));
        process.exitCode = report.exitCode;
      } catch (error) {
        progress.stop();
        if (!(error instanceof BackupError)) throw error;
        process.stderr.write(`stowage backup: ${error.message}\n`);
        process.exitCode = error.exitCode;
      }
    });

  program
    .command('restore-backup <source>')
    .description('Make a new data directory from a backup (a directory or s3://BUCKET/PREFIX), checking every value against the index')
    .requiredOption('--data-dir <d>', 'the data directory to make: new, or empty')
    .option('-j, --jobs <n>', 'blobs restored at once (default 8)', parseJobs)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `${EXIT_CODES}\n\nExamples:\n  $ stowage restore-backup /backups/stowage --data-dir /srv/stowage-restored\n  $ stowage fsck --data-dir /srv/stowage-restored`,
    )
    .action(async (source: string, flags: BackupFlags & { dataDir: string }) => {
      const { restoreDataDir, BackupError } = await import('stowage-server/admin');
      const progress = progressReporter('restore', flags.json === true);
      try {
        const report = await restoreDataDir({
          source,
          dataDir: flags.dataDir,
          env: process.env,
          jobs: flags.jobs,
          onProgress: progress.update,
        });
        progress.stop();
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatRestore(report));
        process.exitCode = report.exitCode;
      } catch (error) {
        progress.stop();
        if (!(error instanceof BackupError)) throw error;
        process.stderr.write(`stowage restore-backup: ${error.message}\n`);
        process.exitCode = error.exitCode;
      }
    });
}

function parseJobs(text: string): number {
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256) throw new InvalidArgumentError('a whole number from 1 to 256');
  return jobs;
}

/**
 * Progress on stderr: a bar of the blob bytes on a terminal, else a line at each phase and every
 * LINE_EVERY blobs; nothing with --json (stderr stays for errors).
 */
function progressReporter(what: 'backup' | 'restore', quiet: boolean) {
  const bar = createProgress(process.stderr.isTTY === true && !quiet, 'blobs');
  const terminal = process.stderr.isTTY === true;
  let phase = '';
  let lastLine = 0;
  return {
    update(progress: BackupProgress | RestoreProgress) {
      if (quiet) return;
      if (terminal) {
        if (progress.phase === 'blobs') bar.update(progress.doneBytes, progress.blobBytes);
        return;
      }
      const pass = 'pass' in progress && progress.pass > 1 ? ` (snapshot ${progress.pass})` : '';
      if (progress.phase !== phase) {
        phase = progress.phase;
        lastLine = progress.done;
        process.stderr.write(`${what}: ${describePhase(progress)}${pass}\n`);
      } else if (progress.phase === 'blobs' && progress.done - lastLine >= LINE_EVERY) {
        lastLine = progress.done;
        process.stderr.write(
          `${what}: ${progress.done}/${progress.blobs} blobs, ${formatBytes(progress.doneBytes)} of ${formatBytes(progress.blobBytes)}${pass}\n`,
        );
      }
    },
    stop() {
      bar.stop();
    },
  };
}

function describePhase(progress: BackupProgress | RestoreProgress): string {
  switch (progress.phase) {
    case 'snapshot':
      return 'taking a snapshot of the index';
    case 'index':
      return 'restoring the index';
    case 'blobs':
      return `${progress.blobs} blobs (${formatBytes(progress.blobBytes)}) named by the index`;
    case 'uploads':
      return 'part files of open uploads';
    default:
      return 'finishing';
  }
}

function formatBackup(report: BackupReport): string {
  const { manifest } = report;
  const lines = [
    `backup of ${manifest.objects} objects in ${report.location}, as of ${manifest.snapshotAt}`,
    `blobs: ${manifest.blobs.count} (${formatBytes(manifest.blobs.bytes)}), ${manifest.blobs.copied} copied (${formatBytes(manifest.blobs.copiedBytes)}), ${manifest.blobs.count - manifest.blobs.copied} there already`,
  ];
  if (manifest.deployment === 'embedded') {
    lines.push(`open uploads: ${manifest.uploads.count} part files (${formatBytes(manifest.uploads.bytes)})`);
    lines.push(
      manifest.secretKey
        ? 'server secret: secret.key is in the backup (keep the backup as private as the data directory)'
        : 'server secret: none in the data directory (STOWAGE_JWT_SECRET): keep it with the backup',
    );
  } else {
    lines.push('index: index.pgdump (pg_dump --format=custom); keep STOWAGE_JWT_SECRET with the backup');
  }
  if (manifest.passes > 1)
    lines.push(`snapshots taken: ${manifest.passes} (blobs an earlier one named were deleted before they were copied)`);
  for (const id of report.missing) lines.push(`missing at the source: blob ${id} (run stowage fsck)`);
  for (const damaged of report.damaged)
    lines.push(
      `damaged at the source: blob ${damaged.blobId} holds ${damaged.found} bytes, the index says ${damaged.expected} (run stowage fsck)`,
    );
  lines.push(report.exitCode === 0 ? 'complete' : 'complete, but with the damage above');
  return `${lines.join('\n')}\n`;
}

function formatRestore(report: RestoreReport): string {
  const lines = [
    `restored ${report.objects} objects from ${report.location} (as of ${report.manifest.snapshotAt}) into ${report.dataDir}`,
    `blobs: ${report.blobs.count} (${formatBytes(report.blobs.bytes)}), each checked for its size and sha256`,
    `open uploads: ${report.uploads.count} part files (${formatBytes(report.uploads.bytes)})${report.uploads.restarted > 0 ? `, ${report.uploads.restarted} to start over` : ''}${report.uploads.expired > 0 ? `, ${report.uploads.expired} expired left out` : ''}`,
    report.secretKey
      ? 'server secret: restored (secret.key)'
      : 'server secret: none in the backup: start the server with the same STOWAGE_JWT_SECRET',
  ];
  for (const problem of report.problems) lines.push(`damaged: blob ${problem.blobId}: ${problem.problem}`);
  lines.push(report.exitCode === 0 ? 'complete' : 'complete, but with the damage above (stowage fsck lists the objects)');
  return `${lines.join('\n')}\n`;
}
