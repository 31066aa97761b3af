import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketInfo, type BucketSummary, isStorageType, type ObjectDetails } from '../api.js';
import { canManageSharing, isPubliclyReadable } from '../buckets.js';
import type { Incoming } from '../conflicts.js';
import { droppedFiles, type PickedFile, pickedFiles } from '../drop.js';
import { formatBytes } from '../format.js';
import { baseName, parentPrefixes } from '../keys.js';
import { HOME, hashOf, type Place, placeOf } from '../place.js';
import { Uploads } from '../uploads.js';
import { ApiKeys } from './ApiKeys.js';
import { BucketNav } from './BucketNav.js';
import { CreateBucket } from './CreateBucket.js';
import { Delete } from './Delete.js';
import { DeleteBucket } from './DeleteBucket.js';
import { DeletedItems } from './DeletedItems.js';
import { Listing } from './Listing.js';
import { Preview } from './Preview.js';
import { Share } from './Share.js';
import { Sharing } from './Sharing.js';
import { type Target, Transfer } from './Transfer.js';
import { UploadConflicts } from './UploadConflicts.js';
import { UploadPanel } from './UploadPanel.js';

type Modal =
  | { kind: 'preview'; object: ObjectDetails }
  | { kind: 'share'; key: string }
  | { kind: 'move' | 'copy' | 'delete'; target: Target }
  | { kind: 'create-bucket' | 'sharing' | 'api-keys' }
  | { kind: 'delete-bucket'; name: string }
  | undefined;

/** Bucket settings read at once when the list of buckets comes. */
const PARALLEL_INFO_READS = 4;
const EMPTY_PAGE: Page = { folders: [], objects: [], next: undefined };

interface Page {
  folders: string[];
  objects: ObjectDetails[];
  next: string | undefined;
}

/**
 * The signed-in view: the bucket selector (storage types, the user's buckets, those shared with
 * them), folders with breadcrumbs, listing, uploads and actions, and a named bucket's sharing.
 * Where it is (bucket and folder) is kept in the URL's fragment.
 */
export function Browser({ api, tenant, onSignOut }: { api: Api; tenant: string; onSignOut: () => void }) {
  const [place, setPlace] = useState<Place>(() => placeOf(location.hash));
  const { bucket: type, prefix } = place;
  const here = useRef(place);
  here.current = place;
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState<Page>(EMPTY_PAGE);
  const [usage, setUsage] = useState<{ objects: number; bytes: number }>();
  const [denied, setDenied] = useState(false);
  const [loading, setLoading] = useState(false);
  const [message, setMessage] = useState<string>();
  /** Why the folder on screen could not be listed: shown instead of its table, never another folder's rows. */
  const [listError, setListError] = useState<string>();
  /** Drops and picks waiting for their overwrite questions, one at a time. */
  const [incoming, setIncoming] = useState<Array<{ id: number; type: string; files: Incoming[] }>>([]);
  const dropCount = useRef(0);
  /** The place the rows on screen belong to. */
  const listed = useRef<string | undefined>(undefined);
  const [modal, setModal] = useState<Modal>();
  const [dragging, setDragging] = useState(false);
  /** The folder's deleted items instead of its contents. */
  const [showDeleted, setShowDeleted] = useState(false);
  const [buckets, setBuckets] = useState<BucketSummary[]>();
  const [bucketsError, setBucketsError] = useState<string>();
  const [infos, setInfos] = useState<ReadonlyMap<string, BucketInfo>>(new Map());
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = useCallback(() => bump(undefined), []);
  const generation = useRef(0);
  /** Shared buckets whose settings the user may not read: not asked again. */
  const unreadable = useRef(new Set<string>());

  const load = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    // Another folder's rows never stay under this folder's breadcrumb while it loads.
    const where = `${type}\u0000${prefix}`;
    if (listed.current !== where) {
      setPage(EMPTY_PAGE);
      setListError(undefined);
    }
    listed.current = where;
    // The count is a nicety: a folder that may be listed but not counted still shows.
    const counted = api.usage(type, prefix).catch(() => undefined);
    try {
      const first = await api.listFolder(type, prefix + filter);
      if (mine !== generation.current) return;
      setPage(first);
      setDenied(false);
      setListError(undefined);
      const counts = await counted;
      if (mine === generation.current) setUsage(counts);
    } catch (cause) {
      if (mine !== generation.current) return;
      setPage(EMPTY_PAGE);
      setUsage(undefined);
      if (cause instanceof ApiError && cause.code === 'AccessDenied' && !isStorageType(type)) setDenied(true);
      else setListError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [api, type, prefix, filter]);

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

  // Back and forward move between the places visited, and a changed fragment goes where it says.
  useEffect(() => {
    const follow = () => {
      const next = placeOf(location.hash);
      const current = here.current;
      if (current.bucket === next.bucket && current.prefix === next.prefix) return;
      setPlace(next);
      setFilter('');
      setDenied(false);
    };
    window.addEventListener('popstate', follow);
    window.addEventListener('hashchange', follow);
    return () => {
      window.removeEventListener('popstate', follow);
      window.removeEventListener('hashchange', follow);
    };
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  // One queue for the whole session: moving between folders must not touch uploads in flight.
  const reload = useRef(load);
  reload.current = load;
  const uploads = useMemo(() => new Uploads(api, redraw, () => void reload.current()), [api, redraw]);
  useEffect(() => () => uploads.cancelAll(), [uploads]);

  const loadMore = async () => {
    if (!page.next) return;
    const more = await api.listFolder(type, prefix + filter, page.next);
    setPage({ folders: [...page.folders, ...more.folders], objects: [...page.objects, ...more.objects], next: more.next });
  };

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
    const hash = hashOf(next);
    if (location.hash !== hash) history.pushState(null, '', hash);
    setPlace(next);
    setFilter('');
    setDenied(false);
    setMessage(undefined);
  };
  const done = (text: string) => {
    setModal(undefined);
    setMessage(text);
    void load();
  };
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
              Filter by prefix
              <input
                type="search"
                value={filter}
                placeholder="name starts with…"
                onInput={(event) => setFilter((event.currentTarget as HTMLInputElement).value)}
              />
            </label>
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
              filter={filter}
              bucketDays={info?.retentionDays}
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
          {listError && !denied && !showDeleted && (
            <p role="alert" class="error">
              {prefix || type} could not be listed: {listError}
            </p>
          )}
          <div aria-busy={loading} hidden={denied || showDeleted || listError !== undefined}>
            <Listing
              prefix={prefix}
              folders={page.folders}
              objects={page.objects}
              actions={{
                openFolder: open,
                preview: (object) => setModal({ kind: 'preview', object }),
                download: (object) => void download(object).catch((cause: Error) => setMessage(cause.message)),
                share: (object) => setModal({ kind: 'share', key: object.key }),
                move: (key, folder) => setModal({ kind: 'move', target: { type, key, folder } }),
                copy: (key, folder) => setModal({ kind: 'copy', target: { type, key, folder } }),
                remove: (key, folder) => setModal({ kind: 'delete', target: { type, key, folder } }),
              }}
            />
            {page.next && (
              <button type="button" class="more" onClick={() => void loadMore()}>
                Load more
              </button>
            )}
          </div>
        </main>
      </div>
      {modal?.kind === 'preview' && (
        <Preview
          api={api}
          type={type}
          object={modal.object}
          isPublic={publicAt(modal.object.key)}
          onDownload={() => void download(modal.object).catch((cause: Error) => setMessage(cause.message))}
          onShare={() => setModal({ kind: 'share', key: modal.object.key })}
          onClose={() => setModal(undefined)}
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
        <Delete api={api} target={modal.target} retentionDays={info?.retentionDays} onClose={() => setModal(undefined)} onDone={done} />
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

function pick(event: Event, upload: (files: PickedFile[]) => void): void {
  const input = event.currentTarget as HTMLInputElement;
  if (input.files) upload(pickedFiles(input.files));
  input.value = '';
}
