import type { Command } from 'commander';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description("Print a JWT for a user, signed with the data directory's secret (nothing else on stdout)")
    .requiredOption('--user <user>', 'the user (tenant) the token is for')
    .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 30d', '1h')
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .action(async (options: { user: string; ttl: string; dataDir?: string }) => {
      const { loadConfig, parseDuration } = await import('stowage-server/config');
      const config = loadConfig(process.env, { dataDir: options.dataDir });
      const { issueAdminToken } = await import('stowage-server/admin');
      const token = await issueAdminToken(config, options.user, parseDuration(options.ttl));
      process.stdout.write(`${token}\n`);
    });
}
