import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api, BucketName } from './api.js';
import { folderRow, objectRow, type Row } from './folder-rows.js';

/** The first page: a screenful, quickly. */
const FIRST_PAGE = 200;
/** Later pages: the most the server lists at once. */
const PAGE = 1000;

export interface FolderContents {
  /** Sub-folders, then objects, in the server's (name) order; a new array when more rows came. */
  rows: readonly Row[];
  /** Every entry of the folder is loaded. */
  complete: boolean;
  /** Objects under the folder (sub-folders' included), when the server counted them. */
  usage: { objects: number; bytes: number } | undefined;
  loading: boolean;
  /** "Load all" is fetching page after page. */
  loadingAll: boolean;
  /** Why the folder, or its next page (`partial`: the rows loaded stay), could not be listed. */
  error: { message: string; partial: boolean } | undefined;
  reload(): Promise<void>;
  loadMore(): void;
  loadAll(): void;
  /** Stops "Load all" after the page in flight, keeping what came. */
  stop(): void;
}

interface Store {
  folders: Row[];
  objects: Row[];
  next: string | undefined;
  /** Bumped when the folder changes or reloads: answers to an older one are dropped. */
  generation: number;
  /** The folder the rows belong to. */
  where: string | undefined;
  abort: AbortController | undefined;
}

/**
 * A folder's entries, a page at a time or all of them. Pages are appended to the store as they
 * come and published at most once per frame, so "Load all" over 100,000 keys leaves the page
 * responsive: only the rows on screen render (see Listing), and the filter and order run once per frame.
 */
export function useFolderContents(
  api: Api,
  type: BucketName,
  prefix: string,
  onError: (cause: unknown, firstPage: boolean) => void,
): FolderContents {
  const store = useRef<Store>({ folders: [], objects: [], next: undefined, generation: 0, where: undefined, abort: undefined });
  const [published, setPublished] = useState<{ rows: readonly Row[]; complete: boolean }>({ rows: [], complete: true });
  const [usage, setUsage] = useState<{ objects: number; bytes: number }>();
  const [loading, setLoading] = useState(false);
  const [loadingAll, setLoadingAll] = useState(false);
  const [error, setError] = useState<FolderContents['error']>();
  const frame = useRef<number | undefined>(undefined);
  const failed = useRef(onError);
  failed.current = onError;

  const publish = useCallback(() => {
    frame.current = undefined;
    const { folders, objects, next } = store.current;
    setPublished({ rows: folders.concat(objects), complete: next === undefined });
  }, []);
  const schedule = useCallback(() => {
    if (frame.current === undefined) frame.current = requestAnimationFrame(publish);
  }, [publish]);

  /** Fetches the next page into the store; false when the folder changed meanwhile or nothing is left. */
  const fetchPage = useCallback(
    async (generation: number, limit: number): Promise<boolean> => {
      const current = store.current;
      const abort = new AbortController();
      current.abort = abort;
      const page = await api.storage.listPage(prefix, {
        storageType: type,
        delimiter: '/',
        details: true,
        limit,
        next: current.next,
        signal: abort.signal,
      });
      if (generation !== store.current.generation) return false;
      for (const folder of page.folders) current.folders.push(folderRow(folder, prefix));
      // A zero-byte `folder/` placeholder (see "New folder") is the folder itself, not an entry in it.
      for (const object of page.objects) if (object.key !== prefix) current.objects.push(objectRow(object, prefix));
      current.next = page.next;
      schedule();
      return page.next !== undefined;
    },
    [api, type, prefix, schedule],
  );

  const reload = useCallback(async () => {
    const current = store.current;
    current.abort?.abort();
    const generation = ++current.generation;
    Object.assign(current, { folders: [], objects: [], next: undefined, abort: undefined });
    // Another folder's rows, or its error, never stay under this folder's breadcrumb while it loads.
    const where = `${type}\u0000${prefix}`;
    if (current.where !== where) {
      current.where = where;
      publish();
      setError(undefined);
    }
    setLoading(true);
    setLoadingAll(false);
    // The count is a nicety: a folder that may be listed but not counted still shows.
    const counted = api.usage(type, prefix).catch(() => undefined);
    try {
      await fetchPage(generation, FIRST_PAGE);
      if (generation !== current.generation) return;
      publish();
      setError(undefined);
      const counts = await counted;
      if (generation === current.generation) setUsage(counts);
    } catch (cause) {
      if (generation !== current.generation) return;
      publish();
      setUsage(undefined);
      setError({ message: messageOf(cause), partial: false });
      failed.current(cause, true);
    } finally {
      if (generation === current.generation) setLoading(false);
    }
  }, [api, type, prefix, fetchPage, publish]);

  const more = useCallback(
    async (all: boolean) => {
      const current = store.current;
      if (current.next === undefined) return;
      const generation = ++current.generation;
      setLoading(true);
      setLoadingAll(all);
      setError(undefined);
      try {
        while ((await fetchPage(generation, PAGE)) && all);
      } catch (cause) {
        // A page that fails stops Load all and says why; Load more tries it again.
        if (generation === current.generation && !(cause instanceof DOMException && cause.name === 'AbortError')) {
          setError({ message: messageOf(cause), partial: true });
          failed.current(cause, false);
        }
      } finally {
        if (generation === current.generation) {
          setLoading(false);
          setLoadingAll(false);
        }
      }
    },
    [fetchPage],
  );

  const stop = useCallback(() => {
    const current = store.current;
    current.generation++;
    current.abort?.abort();
    setLoading(false);
    setLoadingAll(false);
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);
  useEffect(
    () => () => {
      store.current.generation++;
      store.current.abort?.abort();
      if (frame.current !== undefined) cancelAnimationFrame(frame.current);
    },
    [],
  );

  return useMemo(
    () => ({
      ...published,
      usage,
      loading,
      loadingAll,
      error,
      reload,
      loadMore: () => void more(false),
      loadAll: () => void more(true),
      stop,
    }),
    [published, usage, loading, loadingAll, error, reload, more, stop],
  );
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
