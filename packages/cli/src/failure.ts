import { AuthError, BadRequestError, ForbiddenError, NotFoundError, StorageError } from 'stowage-client';
import { isBrokenPipe } from './broken-pipe.js';
import { Exit } from './exit-codes.js';
import { UsageError } from './remote-path.js';

/** How a command's failure is reported: its exit code and one line for stderr (none for a broken pipe). */
export interface Failure {
  readonly exit: number;
  readonly message: string | undefined;
}

/** Where the failing command was talking to, for the hints some failures need. */
export interface FailureContext {
  readonly url: string;
}

/** The one mapping of errors to exit codes and messages, for every storage command. */
export function failureOf(error: unknown, context: FailureContext): Failure {
  if (isBrokenPipe(error)) return { exit: 141, message: undefined };
  const message = (error as Error).message;
  if (error instanceof UsageError) return { exit: Exit.usage, message };
  const local = localFileProblem(error);
  if (local) return local;
  // Before "not found": a URL that misses the API is the call's mistake, not a missing key.
  if (error instanceof StorageError && error.code === 'RouteNotFound')
    return { exit: Exit.usage, message: routeHint(message, context.url) };
  if (error instanceof NotFoundError) return { exit: Exit.notFound, message };
  if (error instanceof AuthError || error instanceof ForbiddenError) return { exit: Exit.auth, message };
  if (error instanceof BadRequestError) return { exit: Exit.usage, message };
  return { exit: Exit.other, message };
}

/** A local file or directory that is missing or cannot be written, said in the user's terms. */
function localFileProblem(error: unknown): Failure | undefined {
  const { code, path } = error as NodeJS.ErrnoException;
  if (typeof path !== 'string') return undefined;
  if (code === 'ENOENT') return { exit: Exit.notFound, message: `${path}: no such file or directory` };
  if (code === 'EACCES' || code === 'EPERM') return { exit: Exit.other, message: `${path}: permission denied` };
  if (code === 'EISDIR') return { exit: Exit.usage, message: `${path} is a directory` };
  return undefined;
}

/** The API lives under /storage/v1: a URL without it reaches no route, and the fix is in the URL. */
function routeHint(message: string, url: string): string {
  if (!URL.canParse(url) || new URL(url).pathname.replace(/\/+$/, '').endsWith('/storage/v1')) return message;
  return `${message}: ${url} is not the storage API; its URL ends in /storage/v1 (e.g. ${new URL(url).origin}/storage/v1)`;
}
