import type { Command } from 'commander';
import type { FsckFinding, FsckReport } from 'stowage-server/admin';
import type { FsckExit } from 'stowage-server/config';

interface FsckFlags {
  dataDir?: string;
  repair?: boolean;
  dropMissing?: boolean;
  dropDamaged?: boolean;
  quick?: boolean;
  json?: boolean;
}

const EXIT_CODES = `
Exit codes (after --repair, of what is left unrepaired):
  0  clean
  1  leftovers only (temp files, orphan blobs, stale part files, short or expired upload
     sessions, recorded usage that disagrees with the objects): no stored object is
     affected; --repair clears them (a server restart clears all but usage)
  2  bad flags
  3  damage: objects whose value is missing or wrong, or a corrupt index
  4  fsck could not run (no data directory, a server holds it for --repair, an I/O error)`;

export function registerFsckCommand(program: Command): void {
  program
    .command('fsck')
    .description('Check a data directory: the index against the blob files, temp files, upload sessions, SQLite integrity')
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('--repair', 'fix leftovers (needs the data directory to itself: stop the server first)')
    .option('--drop-missing', 'with --repair: delete index rows whose blob file is missing (GET then answers 404)')
    .option('--drop-damaged', 'with --repair: delete index rows whose value has the wrong size or sha256; the bytes go to lost+found/')
    .option('--quick', 'skip hashing every value (sizes are still checked) and use SQLite quick_check')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `${EXIT_CODES}\n\nExamples:\n  $ stowage fsck --data-dir /srv/stowage\n  $ stowage fsck --repair --json --data-dir /srv/stowage`,
    )
    .action(async (flags: FsckFlags) => {
      // The server's configuration loads only when fsck runs, not for every stowage command.
      const { FsckExit, loadConfig } = await import('stowage-server/config');
      if ((flags.dropMissing || flags.dropDamaged) && !flags.repair) {
        process.stderr.write('stowage fsck: --drop-missing and --drop-damaged need --repair\n');
        process.exitCode = FsckExit.usage;
        return;
      }
      const config = loadConfig(process.env, { dataDir: flags.dataDir });
      if (config.index.kind !== 'sqlite' || config.blobs.kind !== 'files') {
        process.stderr.write(
          'stowage fsck: checks the embedded deployment (SQLite index + blob files in a data directory). ' +
            'With PostgreSQL + S3, each server removes orphan blobs itself (STOWAGE_ORPHAN_GRACE); see docs/deploy.md\n',
        );
        process.exitCode = FsckExit.usage;
        return;
      }
      const { repair, dropMissing, dropDamaged, quick } = flags;
      const { fsck } = await import('stowage-server/admin');
      const report = await fsck({ dataDir: config.dataDir, repair, dropMissing, dropDamaged, quick });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, FsckExit));
      process.exitCode = report.exitCode;
    });
}

/** One line per finding, the notes, then a summary and what the outcome means. */
function formatReport(report: FsckReport, exit: typeof FsckExit): string {
  const lines = report.findings.map(formatFinding);
  for (const note of report.notes) lines.push(`note: ${note}`);
  const { checked, summary } = report;
  lines.push(
    `${report.dataDir}: ${checked.objects} objects (${checked.blobs} blob files${report.quick ? '' : `, ${checked.bytesHashed} bytes hashed`}), ` +
      `${checked.sessions} upload sessions, ${checked.partFiles} part files, ${checked.tempFiles} temp files`,
    summary.damage + summary.leftovers === 0
      ? 'clean'
      : `${summary.damage} damaged, ${summary.leftovers} leftovers; ${summary.repaired} repaired, ${summary.unresolved} left`,
  );
  if (report.exitCode === exit.leftovers) lines.push('Only leftovers: no stored object is affected. `stowage fsck --repair` removes them.');
  if (report.exitCode === exit.damage)
    lines.push('Damage: some objects cannot be served as stored. See "stowage fsck" in docs/operations.md.');
  return `${lines.join('\n')}\n`;
}

function formatFinding(finding: FsckFinding): string {
  const { object, file, uploadId } = finding;
  const where = [
    object && `${object.tenant}/${object.type}/${JSON.stringify(object.key)}`,
    uploadId && `upload ${uploadId}`,
    file && (object || uploadId ? `(${file})` : file),
  ].filter(Boolean);
  const outcome = finding.repaired ? ` [repaired: ${finding.repaired}]` : '';
  return `${finding.kind} ${where.join(' ')}: ${finding.message}${outcome}`;
}
