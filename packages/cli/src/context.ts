import { Auth, AuthError, type BucketName, NotFoundError, Storage, StorageError } from 'stowage-client';
import { UsageError } from './remote-path.js';

/** Exit codes of every user command. */
export const Exit = { ok: 0, notFound: 1, usage: 2, auth: 3, other: 4 } as const;

/** Options every storage command takes. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  /** Send no credentials: only what is shared with everyone answers. */
  anonymous?: boolean;
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
 * Credentials resolve in this order: --token, then the client's own (env vars, ~/.stowage/token_info.json);
 * with --anonymous there are none.
 */
export function createContext(options: GlobalOptions, command = ''): CommandContext {
  if (options.anonymous && options.token) throw new UsageError('--anonymous sends no credentials: leave out --token');
  const credentials = options.anonymous ? { anonymous: true } : { auth: options.token ? new Auth({ token: options.token }) : new Auth() };
  return {
    storage: new Storage({ url: options.url, ...credentials, transport: httpTransportFor(command) }),
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

/** Maps an error to its exit code and a one-line message. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof NotFoundError) return Exit.notFound;
  if (error instanceof AuthError) return Exit.auth;
  if (error instanceof StorageError && error.status === 403) return Exit.auth;
  return Exit.other;
}

/** Commands that move object bytes: undici moves large values about twice as fast as fetch. */
const TRANSFER_COMMANDS = new Set(['cp', 'get', 'set']);

/**
 * The others go over fetch: built into Node, it loads in a third of undici's time (some 20 ms
 * against 80), which a command of a few small requests would mostly wait for.
 * STOWAGE_HTTP_TRANSPORT (`undici` or `fetch`) chooses for every command.
 */
function httpTransportFor(command: string): 'undici' | 'fetch' | undefined {
  if (process.env.STOWAGE_HTTP_TRANSPORT) return undefined;
  return TRANSFER_COMMANDS.has(command) ? 'undici' : 'fetch';
}
