import type { Command } from 'commander';
import type { ServerConfig } from 'stowage-server/config';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the storage server: files + SQLite in the data directory, or PostgreSQL + S3 for many servers')
    .option('--port <n>', 'port to listen on (env STOWAGE_PORT, default 8787)')
    .option('--host <h>', 'address to listen on (env STOWAGE_HOST, default 127.0.0.1)')
    .option('--s3-port <n>', 'also serve the S3 API at the root of this port, for clients that take host:port only (env STOWAGE_S3_PORT)')
    .option('--data-dir <d>', 'data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
    .option('--durability <mode>', 'full (fsync, survives power loss) or process (env STOWAGE_DURABILITY)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (env STOWAGE_LOG_LEVEL)')
    .option(
      '--log-format <format>',
      'json (one JSON object per line) or pretty (one readable line); default pretty on a terminal, else json (env STOWAGE_LOG_FORMAT)',
    )
    .option('--public-url <url>', 'origin put in signed and upload URLs, e.g. https://storage.example.com (env STOWAGE_PUBLIC_URL)')
    .option(
      '--user-content-url <url>',
      'origin put in signed download URLs instead, a host name of its own for this server, e.g. https://usercontent.example.net (env STOWAGE_USER_CONTENT_URL)',
    )
    .option('--trust-proxy', 'honour X-Forwarded-Proto/-Host/-For from the proxy in front (env STOWAGE_TRUST_PROXY)')
    .option('--index <where>', 'sqlite (in the data directory) or a postgres:// URL shared by every server (env STOWAGE_INDEX)')
    .option('--blobs <where>', 'files (in the data directory) or s3://BUCKET/PREFIX (env STOWAGE_BLOBS)')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (Ceph RGW, MinIO, GCS); omit for AWS (env STOWAGE_S3_ENDPOINT)')
    .option('--print-token <user>', 'print a ready-to-use token for this user once listening')
    .action(
      async (options: {
        port?: string;
        s3Port?: string;
        host?: string;
        dataDir?: string;
        durability?: string;
        logLevel?: string;
        logFormat?: string;
        publicUrl?: string;
        userContentUrl?: string;
        trustProxy?: boolean;
        index?: string;
        blobs?: string;
        s3Endpoint?: string;
        printToken?: string;
      }) => {
        const { serve } = await import('stowage-server');
        // A person at a terminal reads lines; a log collector (stdout a pipe or a file) takes JSON.
        const logFormat = options.logFormat ?? (process.env.STOWAGE_LOG_FORMAT || !process.stdout.isTTY ? undefined : 'pretty');
        const { server, url } = await serve({ ...options, logFormat });
        const origin = new URL(url).origin;
        const lines = [`Stowage is serving ${url} (${describeStorage(server.context.config)})`];
        const s3Root = server.s3RootUrl();
        lines.push(`S3 API: ${origin}/s3${s3Root ? ` and ${s3Root}` : ''}`, `Console: ${origin}/console/`);
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

/** Where this server keeps its data, for the start-up line (never a password). */
function describeStorage(config: ServerConfig): string {
  if (config.index.kind === 'sqlite' && config.blobs.kind === 'files') return `data in ${config.dataDir}`;
  const index = config.index.kind === 'sqlite' ? `index in ${config.dataDir}` : `index on ${redactedUrl(config.index.url)}`;
  const blobs =
    config.blobs.kind === 'files' ? `blobs in ${config.dataDir}` : `blobs in s3://${config.blobs.bucket}/${config.blobs.prefix}`;
  return `${index}, ${blobs}`;
}

function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}
