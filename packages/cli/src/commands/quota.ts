import { type Command, InvalidArgumentError } from 'commander';
import type { TenantQuotaReport } from 'stowage-server/admin';
import { formatBytes } from '../format-bytes.js';

interface QuotaFlags {
  user: string;
  dataDir?: string;
  json?: boolean;
}

const DATA_DIR = ['--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)'] as const;
const JSON_FLAG = ['--json', 'print {tenant, bytes, objects, quotaBytes, quotaSource} as JSON'] as const;

/** `stowage quota set|show`: per-user byte quotas, kept in the data directory (safe while a server runs). */
export function registerQuotaCommand(program: Command): void {
  const quota = program
    .command('quota')
    .description('Per-user byte quotas (the default for everyone is STOWAGE_QUOTA); a running server applies them at once')
    // The server's configuration (for --bytes and --data-dir) loads before `set` or `show`
    // parses its options, and only for them: not for every stowage command.
    .hook('preSubcommand', async () => {
      serverConfig ??= await import('stowage-server/config');
    });
  quota
    .command('set')
    .description('Set the quota of a user')
    .requiredOption('--user <user>', 'the user (tenant)')
    .requiredOption('--bytes <size>', 'a size (10GiB, 500m, 1048576), "unlimited", or "default" to follow STOWAGE_QUOTA', parseQuota)
    .option(...DATA_DIR)
    .option(...JSON_FLAG)
    .addHelpText(
      'after',
      '\nExamples:\n  $ stowage quota set --user alice --bytes 10GiB\n  $ stowage quota set --user alice --bytes default',
    )
    .action(async (flags: QuotaFlags & { bytes: number | null | 'default' }) => {
      const { setTenantQuota } = await import('stowage-server/admin');
      const report = await setTenantQuota(loadConfig(flags), flags.user, flags.bytes);
      process.stdout.write(formatReport(report, flags.json));
    });
  quota
    .command('show')
    .description("Print a user's quota and what it stores")
    .requiredOption('--user <user>', 'the user (tenant)')
    .option(...DATA_DIR)
    .option(...JSON_FLAG)
    .addHelpText('after', '\nExamples:\n  $ stowage quota show --user alice --json')
    .action(async (flags: QuotaFlags) => {
      const { showTenantQuota } = await import('stowage-server/admin');
      process.stdout.write(formatReport(await showTenantQuota(loadConfig(flags), flags.user), flags.json));
    });
}

type ServerConfigModule = typeof import('stowage-server/config');
let serverConfig: ServerConfigModule | undefined;

function loadedConfig(): ServerConfigModule {
  if (!serverConfig) throw new Error('stowage-server/config was not loaded before the quota subcommand');
  return serverConfig;
}

function loadConfig(flags: QuotaFlags) {
  return loadedConfig().loadConfig(process.env, { dataDir: flags.dataDir });
}

function parseQuota(text: string): number | null | 'default' {
  if (text === 'unlimited') return null;
  if (text === 'default') return 'default';
  try {
    return loadedConfig().parseByteSize(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function formatReport(report: TenantQuotaReport, json: boolean | undefined): string {
  if (json) return `${JSON.stringify(report)}\n`;
  const quota = report.quotaBytes === null ? 'unlimited' : `${formatBytes(report.quotaBytes)} (${report.quotaBytes} bytes)`;
  return [
    `user: ${report.tenant}`,
    `quota: ${quota}${report.quotaSource === 'default' ? ', the default' : ''}`,
    `stored: ${formatBytes(report.bytes)} (${report.bytes} bytes) in ${report.objects} objects`,
    '',
  ].join('\n');
}
