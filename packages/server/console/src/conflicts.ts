import type { Api, BucketName } from './api.js';

/** Keys looked up at once before an upload. */
const PARALLEL_LOOKUPS = 6;

/** A file to upload and the key it goes to. */
export interface Incoming {
  file: File;
  key: string;
}

/** What to do with a file whose key holds a value already. */
export type Resolution = 'replace' | 'keep-both' | 'skip';

/**
 * The keys among `keys` that hold a value. Each is found with a one-entry listing of the key as a
 * prefix (a key sorts before every longer key that starts with it): an answer of 200 either way,
 * where a HEAD would log a 404 in the browser's console for every new file. A folder that holds
 * nothing is found first, with one listing, so a new folder's files are not looked up one by one.
 * A folder the user may write but not list has no conflicts to find.
 */
export async function existingKeys(api: Api, type: BucketName, keys: readonly string[]): Promise<Set<string>> {
  const first = async (prefix: string) =>
    api.storage.listPage(prefix, { storageType: type, delimiter: '/', limit: 1 }).catch(() => undefined);
  const folders = [...new Set(keys.map(folderOf))];
  const filled = new Set<string>();
  await inParallel(folders, async (folder) => {
    const page = folder === '' ? { objects: [''] } : await first(folder);
    if (page && page.objects.length + ('folders' in page ? page.folders.length : 0) > 0) filled.add(folder);
  });
  const found = new Set<string>();
  await inParallel(
    keys.filter((key) => filled.has(folderOf(key))),
    async (key) => {
      if ((await first(key))?.objects[0] === key) found.add(key);
    },
  );
  return found;
}

/** "a/b/c.txt" → "a/b/"; "c.txt" → "". */
function folderOf(key: string): string {
  return key.slice(0, key.lastIndexOf('/') + 1);
}

async function inParallel<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  const left = [...items];
  const work = async () => {
    for (let item = left.shift(); item !== undefined; item = left.shift()) await each(item);
  };
  await Promise.all(Array.from({ length: PARALLEL_LOOKUPS }, work));
}

/** "a/report.csv" with n = 1 → "a/report (1).csv"; "a/README" → "a/README (1)". */
export function numberedName(key: string, n: number): string {
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  return dot > slash + 1 ? `${key.slice(0, dot)} (${n})${key.slice(dot)}` : `${key} (${n})`;
}

/** The first "name (n).ext" free both in the bucket and among `taken` (keys this upload already uses). */
export async function freeName(api: Api, type: BucketName, key: string, taken: ReadonlySet<string>): Promise<string> {
  for (let n = 1; ; n += 10) {
    const candidates = Array.from({ length: 10 }, (_, i) => numberedName(key, n + i)).filter((name) => !taken.has(name));
    const existing = await existingKeys(api, type, candidates);
    const free = candidates.find((name) => !existing.has(name));
    if (free) return free;
  }
}
