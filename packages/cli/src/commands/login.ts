import { homedir } from 'node:os';
import path from 'node:path';
import { Auth, writeTokenFile } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { UsageError } from '../remote-path.js';

export function tokenInfoPath(): string {
  return process.env.STOWAGE_TOKEN_INFO_PATH ?? path.join(homedir(), '.stowage', 'token_info.json');
}

/** `stowage login (--token T | --client-id ID --client-secret S)`: stores credentials (mode 0600). */
export async function runLogin(
  ctx: CommandContext,
  _args: string[],
  options: { token?: string; clientId?: string; clientSecret?: string; url?: string },
): Promise<number> {
  const file = tokenInfoPath();
  if (options.clientId && options.clientSecret) {
    const auth = new Auth({ clientId: options.clientId, clientSecret: options.clientSecret, env: {}, tokenInfoPath: file });
    auth.useDefaultDomain(ctx.storage.url);
    const token = await auth.refresh();
    await writeTokenFile(file, { client_id: options.clientId, client_secret: options.clientSecret, JWT_TOKEN: token });
  } else if (options.token) {
    await writeTokenFile(file, { JWT_TOKEN: options.token });
  } else {
    throw new UsageError('login needs --token T, or --client-id ID with --client-secret S');
  }
  ctx.stderr.write(`Credentials saved to ${file}\n`);
  return Exit.ok;
}
