import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { type AuthOptions, Auth as CoreAuth, type TokenInfo, type TokenStore } from '../auth.js';
import { AuthError } from '../errors.js';
import type { HttpTransportFactory } from '../http-transport.js';
import { nodeHttpTransport } from './http.js';

/**
 * {@link CoreAuth} on Node: it also reads `process.env` and keeps tokens in the token file
 * (`STOWAGE_TOKEN_INFO_PATH` or `~/.stowage/token_info.json`), as `stowage login` writes it.
 */
export class Auth extends CoreAuth {
  private readonly tokenFile: TokenFile;

  constructor(options: AuthOptions = {}) {
    const env = options.env ?? process.env;
    super({ ...options, env });
    const file = options.tokenInfoPath || env.STOWAGE_TOKEN_INFO_PATH || path.join(homedir(), '.stowage', 'token_info.json');
    this.tokenFile = new TokenFile(file);
  }

  protected override get store(): TokenStore {
    return this.tokenFile;
  }

  protected override get httpTransport(): HttpTransportFactory {
    return nodeHttpTransport();
  }
}

class TokenFile implements TokenStore {
  constructor(readonly description: string) {}

  async read(): Promise<TokenInfo | undefined> {
    try {
      return JSON.parse(await readFile(this.description, 'utf8')) as TokenInfo;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AuthError(`Cannot read the token file ${this.description}: ${(error as Error).message}`, { cause: error });
    }
  }

  write(info: TokenInfo): Promise<void> {
    return writeTokenFile(this.description, info);
  }
}

/** Writes a token file atomically with mode 0600 (its folder 0700). */
export async function writeTokenFile(file: string, info: TokenInfo): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
