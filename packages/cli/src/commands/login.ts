import { Auth, type TokenInfo, writeTokenFile } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { profilePath } from '../profiles.js';
import { UsageError } from '../remote-path.js';

interface LoginFlags {
  token?: string;
  clientId?: string;
  clientSecret?: string;
  profile?: string;
}

/**
 * `stowage login (--token T | --client-id ID --client-secret S) [--url U] [--profile NAME]`: asks
 * the server who these credentials are, and only then saves them with its URL (mode 0600), so a
 * mistyped token or URL is said now and nothing is overwritten by it.
 */
export async function runLogin(ctx: CommandContext, _args: string[], options: LoginFlags): Promise<number> {
  const file = profilePath(options.profile ?? (process.env.STOWAGE_PROFILE || undefined));
  let info: TokenInfo;
  let auth: Auth;
  if (options.clientId && options.clientSecret) {
    auth = new Auth({ clientId: options.clientId, clientSecret: options.clientSecret, env: {}, tokenInfoPath: file });
    auth.useDefaultDomain(ctx.storage.url);
    info = { client_id: options.clientId, client_secret: options.clientSecret, JWT_TOKEN: await auth.refresh() };
  } else if (options.token && !options.clientId && !options.clientSecret) {
    auth = new Auth({ token: options.token, env: {}, tokenInfoPath: file });
    info = { JWT_TOKEN: options.token };
  } else {
    throw new UsageError('login needs --token T, or --client-id ID with --client-secret S');
  }
  const { Storage } = await import('stowage-client');
  const checking = new Storage({ url: ctx.storage.url, auth });
  let user: string;
  try {
    user = (await checking.usage()).tenant;
  } finally {
    await checking.close();
  }
  await writeTokenFile(file, { ...info, url: ctx.storage.url } as TokenInfo);
  ctx.stderr.write(`Logged in to ${ctx.storage.url} as ${user}; saved to ${file}\n`);
  return Exit.ok;
}
