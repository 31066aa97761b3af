import type { Command } from 'commander';

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage API keys (client_id + secret, exchanged at POST /auth/token)');
  keys
    .command('create')
    .description('Create an API key for a user; the secret is shown once')
    .requiredOption('--user <user>', 'the user (tenant) the key acts as')
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('--json', 'print {"client_id", "client_secret"} as JSON')
    .action(async (options: { user: string; dataDir?: string; json?: boolean }) => {
      const { loadConfig } = await import('stowage-server/config');
      const config = loadConfig(process.env, { dataDir: options.dataDir });
      const { createAdminApiKey } = await import('stowage-server/admin');
      const { clientId, secret } = await createAdminApiKey(config, options.user);
      const out = options.json
        ? JSON.stringify({ client_id: clientId, client_secret: secret })
        : `client_id: ${clientId}\nclient_secret: ${secret}`;
      process.stdout.write(`${out}\n`);
    });
}
