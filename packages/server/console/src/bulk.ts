export type BulkOperation = 'delete' | 'move' | 'copy' | 'download';

export interface BulkResult {
  operation: BulkOperation;
  total: number;
  /** Keys done, in order. */
  done: string[];
  /** The key that failed, and why: the run stopped there. */
  failed: { key: string; message: string } | undefined;
  /** Stopped on the user's request before the end. */
  stopped: boolean;
}

/**
 * Runs `each` over `keys` one at a time (a bulk action never floods the server, and its progress
 * is exact), reporting after each; stops at the first error, or when `signal` aborts.
 */
export async function runBulk(
  operation: BulkOperation,
  keys: readonly string[],
  each: (key: string) => Promise<void>,
  onProgress: (done: number) => void,
  signal: AbortSignal,
): Promise<BulkResult> {
  const result: BulkResult = { operation, total: keys.length, done: [], failed: undefined, stopped: false };
  for (const key of keys) {
    if (signal.aborted) {
      result.stopped = true;
      break;
    }
    try {
      await each(key);
    } catch (cause) {
      result.failed = { key, message: cause instanceof Error ? cause.message : String(cause) };
      break;
    }
    result.done.push(key);
    onProgress(result.done.length);
  }
  return result;
}

const PAST: Record<BulkOperation, string> = { delete: 'Deleted', move: 'Moved', copy: 'Copied', download: 'Downloaded' };

export const objectCount = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'object' : 'objects'}`;

/** What a finished run did, in a sentence: all of it, or how far it got and why it stopped. */
export function bulkSummary(result: BulkResult, where = ''): string {
  const { operation, total, done, failed, stopped } = result;
  const verb = PAST[operation];
  if (!failed && !stopped) return `${verb} ${objectCount(total)}${where}.`;
  const left = total - done.length;
  const reason = failed ? `it stopped at ${failed.key}: ${failed.message}` : 'it was stopped';
  return `${verb} ${done.length.toLocaleString()} of ${objectCount(total)}${where}; ${reason}. ${left.toLocaleString()} not done.`;
}
