import type { Command } from 'commander';
import { serve } from 'stowage-server';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the storage server (embedded backend: files + SQLite in the data directory)')
    .option('--port <n>', 'port to listen on (env STOWAGE_PORT, default 8787)')
    .option('--host <h>', 'address to listen on (env STOWAGE_HOST, default 127.0.0.1)')
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('--durability <mode>', 'full (fsync, survives power loss) or process (env STOWAGE_DURABILITY)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env STOWAGE_LOG_LEVEL)')
    .option('--public-url <url>', 'origin put in signed and upload URLs, e.g. https://storage.example.com (env STOWAGE_PUBLIC_URL)')
    .option('--trust-proxy', 'honour X-Forwarded-Proto/-Host/-For from the proxy in front (env STOWAGE_TRUST_PROXY)')
    .option('--print-token <user>', 'print a ready-to-use token for this user once listening')
    .action(
      async (options: {
        port?: string;
        host?: string;
        dataDir?: string;
        durability?: string;
        logLevel?: string;
        publicUrl?: string;
        trustProxy?: boolean;
        printToken?: string;
      }) => {
        const { server, url } = await serve(options);
        const lines = [`Stowage is serving ${url} (data in ${server.context.config.dataDir})`];
        if (options.printToken) {
          const token = await server.issueToken(options.printToken, 24 * 3_600_000);
          lines.push(
            `A token for user "${options.printToken}", valid 24 hours:`,
            `  export STOWAGE_URL=${url}`,
            `  export STOWAGE_TOKEN=${token}`,
            `  curl -H "Authorization: Bearer $STOWAGE_TOKEN" $STOWAGE_URL/data/list`,
          );
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
