import { type ConfigOverrides, loadConfig } from './config.js';
import { createServer, type StowageServer } from './server.js';

/**
 * Process entry for `stowage serve`: loads config once, starts the server, and on SIGTERM or
 * SIGINT stops accepting, lets in-flight requests finish (bounded) and closes the database.
 */
export async function serve(
  overrides: ConfigOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ server: StowageServer; url: string }> {
  const config = loadConfig(env, overrides);
  const server = await createServer(config);
  const url = await server.listen();
  const stop = (signal: NodeJS.Signals) => {
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return { server, url };
}
