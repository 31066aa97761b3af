import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { type Api, type ObjectDetails, STORAGE_TYPES, type StorageType } from '../api.js';
import { droppedFiles, type PickedFile, pickedFiles } from '../drop.js';
import { formatBytes } from '../format.js';
import { baseName, parentPrefixes } from '../keys.js';
import { Uploads } from '../uploads.js';
import { Delete } from './Delete.js';
import { Listing } from './Listing.js';
import { Preview } from './Preview.js';
import { Share } from './Share.js';
import { type Target, Transfer } from './Transfer.js';
import { UploadPanel } from './UploadPanel.js';

type Modal =
  | { kind: 'preview'; object: ObjectDetails }
  | { kind: 'share'; key: string }
  | { kind: 'move' | 'copy' | 'delete'; target: Target }
  | undefined;

interface Page {
  folders: string[];
  objects: ObjectDetails[];
  next: string | undefined;
}

/** The signed-in view: storage types, folders with breadcrumbs, listing, uploads and actions. */
export function Browser({ api, tenant, onSignOut }: { api: Api; tenant: string; onSignOut: () => void }) {
  const [type, setType] = useState<StorageType>('data');
  const [prefix, setPrefix] = useState('');
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState<Page>({ folders: [], objects: [], next: undefined });
  const [usage, setUsage] = useState<{ objects: number; bytes: number }>();
  const [loading, setLoading] = useState(false);
  const [message, setMessage] = useState<string>();
  const [modal, setModal] = useState<Modal>();
  const [dragging, setDragging] = useState(false);
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = useCallback(() => bump(undefined), []);
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const [first, counted] = await Promise.all([api.listFolder(type, prefix + filter), api.usage(type, prefix)]);
      if (mine !== generation.current) return;
      setPage(first);
      setUsage(counted);
    } catch (cause) {
      if (mine === generation.current) setMessage(cause instanceof Error ? cause.message : String(cause));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [api, type, prefix, filter]);

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
      uploads.add(
        type,
        files.map(({ file, path }) => ({ file, key: prefix + path })),
      ),
    [uploads, type, prefix],
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
  const done = (text: string) => {
    setModal(undefined);
    setMessage(text);
    void load();
  };
  const download = async (object: ObjectDetails) => {
    const url = URL.createObjectURL(await api.download(type, object.key));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = baseName(object.key, object.key.slice(0, object.key.lastIndexOf('/') + 1));
    anchor.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };
  const open = (next: string) => {
    setPrefix(next);
    setFilter('');
    setMessage(undefined);
  };

  return (
    <div class={dragging ? 'app dragging' : 'app'}>
      <header class="top">
        <h1>Stowage</h1>
        <nav aria-label="Storage types" class="tabs">
          {STORAGE_TYPES.map((name) => (
            <button
              key={name}
              type="button"
              aria-pressed={name === type}
              onClick={() => {
                setType(name);
                open('');
              }}
            >
              {name}
            </button>
          ))}
        </nav>
        <span class="who">{tenant}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
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
            <input type="file" multiple class="visually-hidden" {...{ webkitdirectory: true }} onChange={(event) => pick(event, upload)} />
          </label>
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
        <div aria-busy={loading}>
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
      {modal?.kind === 'preview' && <Preview api={api} type={type} object={modal.object} onClose={() => setModal(undefined)} />}
      {modal?.kind === 'share' && <Share api={api} type={type} objectKey={modal.key} onClose={() => setModal(undefined)} />}
      {(modal?.kind === 'move' || modal?.kind === 'copy') && (
        <Transfer api={api} operation={modal.kind} target={modal.target} onClose={() => setModal(undefined)} onDone={done} />
      )}
      {modal?.kind === 'delete' && <Delete api={api} target={modal.target} onClose={() => setModal(undefined)} onDone={done} />}
    </div>
  );
}

function pick(event: Event, upload: (files: PickedFile[]) => void): void {
  const input = event.currentTarget as HTMLInputElement;
  if (input.files) upload(pickedFiles(input.files));
  input.value = '';
}
