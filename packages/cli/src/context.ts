import { Auth, AuthError, NotFoundError, Storage, StorageError, type StorageType } from 'stowage-client';

/** Exit codes of every user command. */
export const Exit = { ok: 0, notFound: 1, usage: 2, auth: 3, other: 4 } as const;

/** Options every storage command takes. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  storageType?: StorageType;
  /** Whether -t was given (rather than left at its default, data). */
  storageTypeChosen?: boolean;
}

/** What a command gets: the client, the streams, and whether stderr is a terminal (for progress bars). */
export interface CommandContext {
  readonly storage: Storage;
  readonly storageType: StorageType;
  /** Whether the user chose the storage type with -t. */
  readonly storageTypeChosen: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly showProgress: boolean;
}

/** Credentials resolve in this order: --token, then the client's own (env vars, ~/.stowage/token_info.json). */
export function createContext(options: GlobalOptions): CommandContext {
  const auth = options.token ? new Auth({ token: options.token }) : new Auth();
  return {
    storage: new Storage({ url: options.url, auth }),
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
