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
  /** Keys left as they were, in order: a copy or move whose destination exists (and no overwrite). */
  skipped: string[];
}

/** What `each` answers for a key it left as it was because its destination exists. */
export const SKIPPED = 'skipped';

/**
 * Runs `each` over `keys` one at a time (a bulk action never floods the server, and its progress
 * is exact), reporting after each; stops at the first error, or when `signal` aborts.
 */
export async function runBulk(
  operation: BulkOperation,
  keys: readonly string[],
  each: (key: string) => Promise<typeof SKIPPED | undefined>,
  onProgress: (handled: number) => void,
  signal: AbortSignal,
): Promise<BulkResult> {
  const result: BulkResult = { operation, total: keys.length, done: [], failed: undefined, stopped: false, skipped: [] };
  for (const key of keys) {
    if (signal.aborted) {
      result.stopped = true;
      break;
    }
    try {
      if ((await each(key)) === SKIPPED) result.skipped.push(key);
      else result.done.push(key);
    } catch (cause) {
      result.failed = { key, message: cause instanceof Error ? cause.message : String(cause) };
      break;
    }
    onProgress(result.done.length + result.skipped.length);
  }
  return result;
}

/** A run over the keys `first` skipped, added to it: one result for the whole action. */
export function followedBy(first: BulkResult, second: BulkResult): BulkResult {
  return { ...second, total: first.total, done: [...first.done, ...second.done] };
}

const PAST: Record<BulkOperation, string> = { delete: 'Deleted', move: 'Moved', copy: 'Copied', download: 'Downloaded' };

export const objectCount = (n: number) => `${n.toLocaleString()} ${n === 1 ? 'object' : 'objects'}`;

const existThere = (n: number) => (n === 1 ? 'it already exists there' : 'they already exist there');

/** How far a run got: `Copied 1 of 3 objects to data: there/`. */
function doneOf({ operation, total, done }: BulkResult, where: string): string {
  return `${PAST[operation]} ${done.length.toLocaleString()} of ${objectCount(total)}${where}`;
}

/** A run that skipped keys whose destination exists, as the question about them begins. */
export function skippedSummary(result: BulkResult, where = ''): string {
  const skipped = result.skipped.length;
  return `${doneOf(result, where)}; ${skipped.toLocaleString()} skipped: ${existThere(skipped)}`;
}

/** What a finished run did, in a sentence: all of it, or how far it got, what it left and why it stopped. */
export function bulkSummary(result: BulkResult, where = ''): string {
  const { operation, total, done, failed, stopped, skipped } = result;
  if (!failed && !stopped && skipped.length === 0) return `${PAST[operation]} ${objectCount(total)}${where}.`;
  const left = skipped.length === 1 ? 'left as it was' : 'left as they were';
  const kept = skipped.length > 0 ? `; ${skipped.length.toLocaleString()} ${left}: ${existThere(skipped.length)}` : '';
  if (!failed && !stopped) return `${doneOf(result, where)}${kept}.`;
  const notDone = total - done.length - skipped.length;
  const reason = failed ? `it stopped at ${failed.key}: ${failed.message}` : 'it was stopped';
  return `${doneOf(result, where)}${kept}; ${reason}. ${notDone.toLocaleString()} not done.`;
}
