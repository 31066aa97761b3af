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
export function createContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CommandContext {
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
    storage: new Storage({ url, ...credentials }),
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
