import { Auth, type BucketName, Storage } from 'stowage-client';
import { profilePath, profileUrl } from './profiles.js';
import { UsageError } from './remote-path.js';

export { Exit } from './exit-codes.js';

/** Options every storage command takes. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  /** Send no credentials: only what is shared with everyone answers. */
  anonymous?: boolean;
  /** A profile saved by `stowage login --profile NAME` (else STOWAGE_PROFILE, else the default one). */
  profile?: string;
  /** A storage type or a bucket's name (-t). */
  storageType?: BucketName;
  /** Whether -t was given (rather than left at its default, data). */
  storageTypeChosen?: boolean;
}

/** What a command gets: the client, the streams, and whether stderr is a terminal (for progress bars). */
export interface CommandContext {
  readonly storage: Storage;
  readonly storageType: BucketName;
  /** Whether the user chose the storage type with -t. */
  readonly storageTypeChosen: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly showProgress: boolean;
}

/**
 * The server is --url, else STOWAGE_URL, else the one the profile was saved with. Credentials are
 * --token, else the client's own (env vars, then the default profile's file); a profile named
 * with --profile or STOWAGE_PROFILE uses its own file alone. With --anonymous there are none.
 */
export function createContext(options: GlobalOptions, command = '', env: NodeJS.ProcessEnv = process.env): CommandContext {
  if (options.anonymous && options.token) throw new UsageError('--anonymous sends no credentials: leave out --token');
  const profile = options.profile ?? (env.STOWAGE_PROFILE || undefined);
  const tokenInfoPath = profilePath(profile, env);
  const url = options.url ?? (env.STOWAGE_URL || profileUrl(tokenInfoPath));
  const auth = options.token
    ? new Auth({ token: options.token })
    : profile === undefined
      ? new Auth()
      : new Auth({ env: {}, tokenInfoPath });
  const credentials = options.anonymous ? { anonymous: true } : { auth };
  return {
    storage: new Storage({ url, ...credentials, transport: httpTransportFor(command, env) }),
    storageType: options.storageType ?? 'data',
    storageTypeChosen: options.storageTypeChosen === true,
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin opens fd 0 as a stream on first use: only set reads it.
    get stdin() {
      return process.stdin;
    },
    showProgress: process.stderr.isTTY === true,
  };
}

/** Commands that move object bytes: undici moves large values about twice as fast as fetch. */
const TRANSFER_COMMANDS = new Set(['cp', 'get', 'set', 'sync']);

/**
 * The others go over fetch: built into Node, it loads in a third of undici's time (some 20 ms
 * against 80), which a command of a few small requests would mostly wait for.
 * STOWAGE_HTTP_TRANSPORT (`undici` or `fetch`) chooses for every command.
 */
function httpTransportFor(command: string, env: NodeJS.ProcessEnv): 'undici' | 'fetch' | undefined {
  if (env.STOWAGE_HTTP_TRANSPORT) return undefined;
  return TRANSFER_COMMANDS.has(command) ? 'undici' : 'fetch';
}
