import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketInfo, type BucketSummary, isStorageType, type ObjectDetails } from '../api.js';
import { canManageSharing, isPubliclyReadable } from '../buckets.js';
import { type BulkOperation, bulkSummary } from '../bulk.js';
import type { Incoming } from '../conflicts.js';
import { droppedFiles, type PickedFile, pickedFiles } from '../drop.js';
import { useFolderContents } from '../folder-contents.js';
import { matchRows, sortRows } from '../folder-rows.js';
import { formatBytes } from '../format.js';
import { baseName, parentPrefixes } from '../keys.js';
import { HOME, hashOf, type Place, type SortColumn, type View, viewAt, viewOf } from '../place.js';
import { Selection } from '../selection.js';
import { Uploads } from '../uploads.js';
import { keptDays } from '../versions.js';
import { objectDetails } from '../view-object.js';
import { ApiKeys } from './ApiKeys.js';
import { BucketNav } from './BucketNav.js';
import { BulkActions } from './BulkActions.js';
import { BulkDialog } from './BulkDialog.js';
import { CreateBucket } from './CreateBucket.js';
import { Delete } from './Delete.js';
import { DeleteBucket } from './DeleteBucket.js';
import { DeletedItems } from './DeletedItems.js';
import { Listing } from './Listing.js';
import { ListingFooter } from './ListingFooter.js';
import { NewFolder } from './NewFolder.js';
import { Preview } from './Preview.js';
import { Share } from './Share.js';
import { Sharing } from './Sharing.js';
import { type Target, Transfer } from './Transfer.js';
import { UploadConflicts } from './UploadConflicts.js';
import { UploadPanel } from './UploadPanel.js';

type Modal =
  | { kind: 'share'; key: string }
  | { kind: 'move' | 'copy' | 'delete'; target: Target }
  | { kind: 'create-bucket' | 'sharing' | 'api-keys' }
  | { kind: 'delete-bucket'; name: string }
  | { kind: 'bulk'; operation: BulkOperation }
  | { kind: 'new-folder' }
  | undefined;

/** Bucket settings read at once when the list of buckets comes. */
const PARALLEL_INFO_READS = 4;

/** How long a Back the console started may take before a view chosen meanwhile is recorded anyway. */
const STEP_BACK_WAIT_MS = 3_000;

/**
 * The signed-in view: the bucket selector (storage types, the user's buckets, those shared with
 * them), folders with breadcrumbs, listing, uploads and actions, and a named bucket's sharing.
 * The view (bucket, folder, search, order, previewed object) is kept in the URL's fragment: Back
 * and Forward move between views, a reload or a bookmark comes back to it.
 */
export function Browser({ api, tenant, onSignOut }: { api: Api; tenant: string; onSignOut: () => void }) {
  const [view, setView] = useState<View>(() => viewOf(location.hash));
  /** The fragment the first view was read from: one changed before the listeners below were there is followed then. */
  const firstHash = useRef(location.hash);
  const { bucket: type, prefix, search, sort } = view;
  const here = useRef(view);
  here.current = view;
  const [denied, setDenied] = useState(false);
  const [message, setMessage] = useState<string>();
  const [selection, setSelection] = useState(Selection.EMPTY);
  const [previewed, setPreviewed] = useState<ObjectDetails>();
  /**
   * Counts the previews shown; a preview's dialog closes only the one it belongs to. A dialog also
   * reports its closing as it goes away, which may come after Back and Forward opened the next one.
   */
  const previews = useRef<{ key: string | undefined; shown: number; closed: number }>({ key: undefined, shown: 0, closed: 0 });
  if (view.object !== previews.current.key) {
    previews.current.key = view.object;
    if (view.object !== undefined) previews.current.shown++;
  }
  /**
   * A Back the console started (closing a preview) that has not arrived yet, and the view chosen
   * meanwhile: recorded before it arrives, that view's entry would be the one Back leaves.
   */
  const steppingBack = useRef<{ next?: Parameters<typeof go>; timer: ReturnType<typeof setTimeout> } | undefined>(undefined);
  /** Shows a view and records it in the history: a new entry (`push`) or in place of the current one. */
  const go = useCallback((next: View, mode: 'push' | 'replace', state: { preview: boolean } | null = null) => {
    const waiting = steppingBack.current;
    if (waiting) {
      // The views chosen meanwhile make one entry: a new one if any of them asked for one.
      const earlier = waiting.next;
      const push = mode === 'push' || earlier?.[1] === 'push';
      waiting.next = [next, push ? 'push' : 'replace', mode === 'push' ? state : (earlier?.[2] ?? state)];
      setView(next);
      return;
    }
    const hash = hashOf(next);
    if (mode === 'push' && location.hash !== hash) history.pushState(state, '', hash);
    else if (location.hash !== hash) history.replaceState(history.state, '', hash);
    setView(next);
  }, []);
  /**
   * The Back arrived, or did not in time (`late`): the view chosen meanwhile, if any, gets its entry
   * (true then); without one, a Back that did not come closes the preview in place.
   */
  const steppedBack = useCallback(
    (late = false) => {
      const waiting = steppingBack.current;
      if (!waiting) return false;
      clearTimeout(waiting.timer);
      steppingBack.current = undefined;
      if (waiting.next) go(...waiting.next);
      else if (late) go({ ...here.current, object: undefined }, 'replace');
      return waiting.next !== undefined;
    },
    [go],
  );
  /** Drops and picks waiting for their overwrite questions, one at a time. */
  const [incoming, setIncoming] = useState<Array<{ id: number; type: string; files: Incoming[] }>>([]);
  const dropCount = useRef(0);
  const [modal, setModal] = useState<Modal>();
  const [dragging, setDragging] = useState(false);
  /** The folder's deleted items instead of its contents. */
  const [showDeleted, setShowDeleted] = useState(false);
  const [buckets, setBuckets] = useState<BucketSummary[]>();
  const [bucketsError, setBucketsError] = useState<string>();
  const [infos, setInfos] = useState<ReadonlyMap<string, BucketInfo>>(new Map());
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = useCallback(() => bump(undefined), []);
  /** Shared buckets whose settings the user may not read: not asked again. */
  const unreadable = useRef(new Set<string>());

  const contents = useFolderContents(api, type, prefix, (cause, firstPage) => {
    if (firstPage && cause instanceof ApiError && cause.code === 'AccessDenied' && !isStorageType(type)) setDenied(true);
  });
  const load = contents.reload;
  const { usage, loading } = contents;
  /** Why the folder on screen could not be listed (shown instead of its table), or its next page. */
  const listError = denied ? undefined : contents.error;
  const sorted = useMemo(() => sortRows(contents.rows, sort), [contents.rows, sort]);
  const shown = useMemo(() => matchRows(sorted, search), [sorted, search]);

  const rememberInfo = useCallback((info: BucketInfo) => setInfos((known) => new Map(known).set(info.name, info)), []);

  /** The buckets of the selector, and the settings of those the user owns (for their Public badge). */
  const loadBuckets = useCallback(async () => {
    try {
      const listed = await api.listBuckets();
      setBuckets(listed);
      setBucketsError(undefined);
      const owned = listed.filter((bucket) => bucket.access === 'owner').map((bucket) => bucket.name);
      const read = async () => {
        for (let name = owned.shift(); name !== undefined; name = owned.shift()) {
          await api.bucketInfo(name).then(rememberInfo, () => {});
        }
      };
      await Promise.all(Array.from({ length: PARALLEL_INFO_READS }, read));
    } catch (cause) {
      setBucketsError(`The list of buckets did not load: ${cause instanceof Error ? cause.message : String(cause)}`);
    }
  }, [api, rememberInfo]);

  useEffect(() => {
    void loadBuckets();
    // Coming back to the tab: what others shared meanwhile shows.
    const visible = () => document.visibilityState === 'visible' && void loadBuckets();
    document.addEventListener('visibilitychange', visible);
    return () => document.removeEventListener('visibilitychange', visible);
  }, [loadBuckets]);

  // The settings of the named bucket on screen: its owner's always, a shared one's when the user may read them.
  useEffect(() => {
    if (isStorageType(type) || unreadable.current.has(type)) return;
    api.bucketInfo(type).then(rememberInfo, (cause) => {
      if (cause instanceof ApiError && cause.code === 'AccessDenied') unreadable.current.add(type);
    });
  }, [api, type, rememberInfo]);

  // Back and forward move between the views visited, and a changed fragment goes where it says.
  useEffect(() => {
    const follow = (event: Event) => {
      if (event.type === 'popstate' && steppedBack()) return;
      const next = viewOf(location.hash);
      const current = here.current;
      const samePlace = current.bucket === next.bucket && current.prefix === next.prefix;
      setView(sameSort(current, next) ? { ...next, sort: current.sort } : next);
      if (samePlace) return;
      setDenied(false);
      setSelection(Selection.EMPTY);
    };
    window.addEventListener('popstate', follow);
    window.addEventListener('hashchange', follow);
    if (location.hash !== firstHash.current) follow(new HashChangeEvent('hashchange'));
    return () => {
      window.removeEventListener('popstate', follow);
      window.removeEventListener('hashchange', follow);
      clearTimeout(steppingBack.current?.timer);
    };
  }, [steppedBack]);

  // The previewed object follows the URL: from the rows loaded, else asked of the server (a link or a reload).
  const rowsNow = useRef(contents.rows);
  rowsNow.current = contents.rows;
  useEffect(() => {
    if (view.object === undefined) {
      setPreviewed(undefined);
      return;
    }
    const key = view.object;
    const listed = rowsNow.current.find((row) => row.key === key)?.object;
    if (listed) {
      setPreviewed(listed);
      return;
    }
    let current = true;
    api.storage.info(key, { storageType: type }).then(
      (info) => current && setPreviewed(objectDetails(key, info)),
      (cause: Error) => {
        if (!current) return;
        setMessage(`${key} cannot be previewed: ${cause.message}`);
        go({ ...here.current, object: undefined }, 'replace');
      },
    );
    return () => {
      current = false;
    };
  }, [api, type, view.object, go]);

  // One queue for the whole session: moving between folders must not touch uploads in flight.
  const reload = useRef(load);
  reload.current = load;
  const uploads = useMemo(() => new Uploads(api, redraw, () => void reload.current()), [api, redraw]);
  useEffect(() => () => uploads.cancelAll(), [uploads]);

  const upload = useCallback(
    (files: PickedFile[]) =>
      setIncoming((queue) => [
        ...queue,
        { id: ++dropCount.current, type, files: files.map(({ file, path }) => ({ file, key: prefix + path })) },
      ]),
    [type, prefix],
  );
  // Files and folders dropped anywhere on the page go into the folder on screen.
  useEffect(() => {
    const over = (event: DragEvent) => {
      event.preventDefault();
      setDragging(true);
    };
    const leave = () => setDragging(false);
    const drop = async (event: DragEvent) => {
      event.preventDefault();
      setDragging(false);
      if (event.dataTransfer) upload(await droppedFiles(event.dataTransfer));
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [upload]);
  const navigate = (next: Place) => {
    go(viewAt(next), 'push');
    setDenied(false);
    setMessage(undefined);
    setSelection(Selection.EMPTY);
  };
  // A search's first letter makes a new entry in the history, the next ones replace it: Back leaves the search.
  const searchFor = (text: string) => go({ ...view, search: text }, search === '' && text !== '' ? 'push' : 'replace');
  const sortBy = (by: SortColumn) => go({ ...view, sort: { by, descending: sort.by === by ? !sort.descending : false } }, 'replace');
  const openPreview = (object: ObjectDetails) => {
    setPreviewed(object);
    go({ ...view, object: object.key }, 'push', { preview: true });
  };
  // Closing what was opened here steps back (Forward opens it again); closing what a link opened replaces it.
  const closePreview = (shown: number) => {
    const current = here.current;
    if (current.object === undefined || shown !== previews.current.shown || previews.current.closed === shown) return;
    previews.current.closed = shown;
    if ((history.state as { preview?: boolean } | null)?.preview) {
      steppingBack.current = { timer: setTimeout(() => steppedBack(true), STEP_BACK_WAIT_MS) };
      history.back();
    } else go({ ...current, object: undefined }, 'replace');
  };
  const done = (text: string) => {
    setModal(undefined);
    setMessage(text);
    void load();
  };
  const selectShown = () => setSelection((picked) => picked.toggleAll(shown.flatMap((row) => (row.object ? [row.key] : []))));
  const selectOne = (key: string, shift: boolean) =>
    setSelection((picked) =>
      picked.click(
        key,
        shift,
        shown.map((row) => row.key),
      ),
    );
  const download = async (object: ObjectDetails) => {
    const url = URL.createObjectURL(await api.download(type, object.key, object.contentType));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = baseName(object.key, object.key.slice(0, object.key.lastIndexOf('/') + 1));
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  const open = (next: string) => navigate({ bucket: type, prefix: next });
  const info = isStorageType(type) ? undefined : infos.get(type);
  const shownPreview = previews.current.shown;
  const closeThisPreview = () => closePreview(shownPreview);
  const summary = buckets?.find((bucket) => bucket.name === type);
  /** Whether the bucket's settings make `key` public; undefined when the user may not read them. */
  const publicAt = (key: string) => (isStorageType(type) ? false : info ? isPubliclyReadable(info, key) : undefined);
  const named = (buckets ?? []).map((bucket) => bucket.name);
  const signOut = () => {
    history.replaceState(null, '', location.pathname + location.search);
    onSignOut();
  };

  return (
    <div class={dragging ? 'app dragging' : 'app'}>
      <header class="top">
        <h1>Stowage</h1>
        <span class="who">{tenant}</span>
        <button type="button" onClick={() => setModal({ kind: 'api-keys' })}>
          API keys
        </button>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <BucketNav
          current={type}
          buckets={buckets}
          infos={infos}
          error={bucketsError}
          onOpen={(bucket) => navigate({ bucket, prefix: '' })}
          onCreate={() => setModal({ kind: 'create-bucket' })}
        />
        <main>
          {!isStorageType(type) && (
            <div class="bucket-bar">
              <h2 class="bucket-title">{type}</h2>
              {summary?.access === 'shared' && <span class="owner">owner: {summary.owner}</span>}
              {info?.public && (
                <span class="badge public" title="Anyone can read something in this bucket without signing in">
                  Public
                </span>
              )}
              <div class="bucket-actions">
                {info && (
                  <button type="button" onClick={() => setModal({ kind: 'sharing' })}>
                    {canManageSharing(info, tenant) ? 'Sharing' : 'Who has access'}
                  </button>
                )}
                {summary?.access === 'owner' && (
                  <button type="button" class="danger" onClick={() => setModal({ kind: 'delete-bucket', name: type })}>
                    Delete bucket
                  </button>
                )}
              </div>
            </div>
          )}
          <nav aria-label="Folder path" class="crumbs">
            <ol>
              {parentPrefixes(prefix).map((crumb, i, all) => (
                <li key={crumb}>
                  {i === all.length - 1 ? (
                    <span aria-current="page">{crumb === '' ? type : baseName(crumb, all[i - 1] ?? '')}</span>
                  ) : (
                    <button type="button" class="link" onClick={() => open(crumb)}>
                      {crumb === '' ? type : baseName(crumb, all[i - 1] ?? '')}
                    </button>
                  )}
                </li>
              ))}
            </ol>
          </nav>
          <div class="toolbar">
            <label>
              Filter by name
              <input
                type="search"
                value={search}
                placeholder="name contains…"
                onInput={(event) => searchFor((event.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <button type="button" onClick={() => setModal({ kind: 'new-folder' })}>
              New folder
            </button>
            <label class="button">
              Upload files
              <input type="file" multiple class="visually-hidden" onChange={(event) => pick(event, upload)} />
            </label>
            <label class="button">
              Upload a folder
              <input
                type="file"
                multiple
                class="visually-hidden"
                {...{ webkitdirectory: true }}
                onChange={(event) => pick(event, upload)}
              />
            </label>
            <button
              type="button"
              aria-pressed={showDeleted}
              onClick={() => {
                setShowDeleted(!showDeleted);
                setMessage(undefined);
                // Back to the folder: as it is now, after whatever was restored or deleted meanwhile.
                if (showDeleted) void load();
              }}
            >
              Deleted items
            </button>
            <span class="usage" aria-live="polite">
              {usage && `${usage.objects.toLocaleString()} objects, ${formatBytes(usage.bytes)} in this folder`}
            </span>
          </div>
          {message && (
            <p role="status" class="message">
              {message}
            </p>
          )}
          <UploadPanel uploads={uploads} />
          {showDeleted && (
            <DeletedItems
              api={api}
              type={type}
              prefix={prefix}
              filter={search}
              keptDays={keptDays(info, prefix, false)}
              onChanged={() => void load()}
            />
          )}
          {denied && !showDeleted && (
            <FolderByPath
              key={`${type}:${prefix}`}
              bucket={type}
              prefix={prefix}
              owner={summary?.owner}
              onOpen={(folder) => navigate({ bucket: type, prefix: folder })}
            />
          )}
          {listError && !listError.partial && !showDeleted && (
            <p role="alert" class="error">
              {prefix || type} could not be listed: {listError.message}
            </p>
          )}
          <div aria-busy={loading} hidden={denied || showDeleted || (listError !== undefined && !listError.partial)} class="listing-area">
            <BulkActions
              count={selection.size}
              onAction={(operation) => setModal({ kind: 'bulk', operation })}
              onClear={() => setSelection(Selection.EMPTY)}
            />
            <Listing
              key={`${type}:${prefix}`}
              prefix={prefix}
              rows={shown}
              resetScroll={`${search}\n${sort.by}\n${sort.descending}`}
              sort={sort}
              onSort={sortBy}
              selection={selection}
              onSelect={selectOne}
              onSelectAll={selectShown}
              empty={
                search && contents.rows.length > 0
                  ? `No objects match “${search}”${contents.complete ? '' : ' among those loaded'}.`
                  : loading
                    ? 'Loading…'
                    : 'Nothing here yet. Drop files or folders to upload them.'
              }
              actions={{
                openFolder: open,
                preview: openPreview,
                download: (object) => void download(object).catch((cause: Error) => setMessage(cause.message)),
                share: (object) => setModal({ kind: 'share', key: object.key }),
                move: (key, folder) => setModal({ kind: 'move', target: { type, key, folder } }),
                copy: (key, folder) => setModal({ kind: 'copy', target: { type, key, folder } }),
                remove: (key, folder) => setModal({ kind: 'delete', target: { type, key, folder } }),
              }}
            />
            <ListingFooter contents={contents} shown={shown.length} search={search} />
          </div>
        </main>
      </div>
      {previewed && view.object === previewed.key && (
        <Preview
          api={api}
          type={type}
          object={previewed}
          isPublic={publicAt(previewed.key)}
          onDownload={() => void download(previewed).catch((cause: Error) => setMessage(cause.message))}
          onShare={() => {
            setModal({ kind: 'share', key: previewed.key });
            closeThisPreview();
          }}
          onClose={closeThisPreview}
        />
      )}
      {modal?.kind === 'bulk' && (
        <BulkDialog
          api={api}
          operation={modal.operation}
          type={type}
          prefix={prefix}
          keys={[...selection.keys].sort()}
          buckets={named}
          onClose={() => setModal(undefined)}
          onFinished={(result, where) => {
            setModal(undefined);
            setMessage(bulkSummary(result, where));
            setSelection((picked) => picked.without(result.done));
            if (result.operation !== 'download') void load();
          }}
        />
      )}
      {modal?.kind === 'new-folder' && (
        <NewFolder
          api={api}
          type={type}
          prefix={prefix}
          onClose={() => setModal(undefined)}
          onCreated={(folder) => {
            setModal(undefined);
            navigate({ bucket: type, prefix: folder });
            setMessage(`Created the folder ${folder}. Drop files here to upload them into it.`);
          }}
        />
      )}
      {modal?.kind === 'share' && (
        <Share api={api} type={type} objectKey={modal.key} isPublic={publicAt(modal.key)} onClose={() => setModal(undefined)} />
      )}
      {(modal?.kind === 'move' || modal?.kind === 'copy') && (
        <Transfer
          api={api}
          operation={modal.kind}
          target={modal.target}
          buckets={named}
          onClose={() => setModal(undefined)}
          onDone={done}
        />
      )}
      {modal?.kind === 'delete' && (
        <Delete
          api={api}
          target={modal.target}
          kept={keptDays(info, modal.target.key, !modal.target.folder)}
          onClose={() => setModal(undefined)}
          onDone={done}
        />
      )}
      {modal?.kind === 'create-bucket' && (
        <CreateBucket
          api={api}
          onClose={() => setModal(undefined)}
          onCreated={(created) => {
            setModal(undefined);
            rememberInfo(created);
            setBuckets((listed) =>
              [
                ...(listed ?? []),
                { name: created.name, owner: created.owner, createdAt: created.createdAt, access: 'owner' as const },
              ].sort((a, b) => (a.name < b.name ? -1 : 1)),
            );
            navigate({ bucket: created.name, prefix: '' });
            setMessage(`Created the bucket ${created.name}. Drop files here to upload them into it.`);
            void loadBuckets();
          }}
        />
      )}
      {modal?.kind === 'delete-bucket' && (
        <DeleteBucket
          api={api}
          name={modal.name}
          onClose={() => setModal(undefined)}
          onDeleted={(name) => {
            setModal(undefined);
            setBuckets((listed) => listed?.filter((bucket) => bucket.name !== name));
            setInfos((known) => {
              const left = new Map(known);
              left.delete(name);
              return left;
            });
            navigate(HOME);
            setMessage(`Deleted the bucket ${name}.`);
            void loadBuckets();
          }}
        />
      )}
      {modal?.kind === 'api-keys' && <ApiKeys api={api} buckets={named} onClose={() => setModal(undefined)} />}
      {incoming[0] && (
        <UploadConflicts
          key={incoming[0].id}
          api={api}
          type={incoming[0].type}
          files={incoming[0].files}
          onResolved={(files) => {
            if (files.length > 0) uploads.add(incoming[0]?.type ?? type, files);
            setIncoming((queue) => queue.slice(1));
          }}
        />
      )}
      {modal?.kind === 'sharing' && (
        <Sharing api={api} bucket={type} prefix={prefix} user={tenant} onChanged={rememberInfo} onClose={() => setModal(undefined)} />
      )}
    </div>
  );
}

/**
 * What a bucket shows where its folder may not be listed: someone may have shared a folder inside
 * it, which opens by its path (or the console link they sent).
 */
function FolderByPath({
  bucket,
  prefix,
  owner,
  onOpen,
}: {
  bucket: string;
  prefix: string;
  owner: string | undefined;
  onOpen: (folder: string) => void;
}) {
  const [folder, setFolder] = useState(prefix);
  return (
    <section class="notice" aria-labelledby="denied-heading">
      <h2 id="denied-heading">You may not list {prefix === '' ? `the top of ${bucket}` : prefix}</h2>
      <p>
        {owner ? `${owner} may have shared` : 'Perhaps you were given'} only some folders of {bucket}. Open one by its path; a console link
        to a folder opens it directly.
      </p>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          const path = folder.trim();
          onOpen(path === '' || path.endsWith('/') ? path : `${path}/`);
        }}
      >
        <label>
          Folder to open
          <input
            value={folder}
            placeholder="reports/2025/"
            spellcheck={false}
            onInput={(event) => setFolder((event.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Open folder</button>
      </form>
    </section>
  );
}

function sameSort(a: View, b: View): boolean {
  return a.sort.by === b.sort.by && a.sort.descending === b.sort.descending;
}

function pick(event: Event, upload: (files: PickedFile[]) => void): void {
  const input = event.currentTarget as HTMLInputElement;
  if (input.files) upload(pickedFiles(input.files));
  input.value = '';
}
