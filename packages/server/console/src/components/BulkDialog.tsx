import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketName } from '../api.js';
import { type BulkOperation, type BulkResult, followedBy, objectCount, runBulk, SKIPPED, skippedSummary } from '../bulk.js';
import { baseName } from '../keys.js';
import { DestinationSelect } from './DestinationSelect.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';

/** How long a download's signed URL lives: it is used at once. */
const DOWNLOAD_URL_SECONDS = 300;
/** A pause between downloads, so the browser starts each one rather than dropping some of a burst. */
const DOWNLOAD_GAP_MS = 250;

const TITLE: Record<BulkOperation, string> = { delete: 'Delete', move: 'Move', copy: 'Copy', download: 'Download' };
const DOING: Record<BulkOperation, string> = { delete: 'Deleting', move: 'Moving', copy: 'Copying', download: 'Downloading' };

/**
 * Confirms a bulk action on the selected objects (and, to move or copy, asks where to), then
 * runs it one object at a time with a progress bar and a Stop button. A copy or move leaves a key
 * whose destination exists as it was and goes on; at the end it asks whether to overwrite those.
 */
export function BulkDialog({
  api,
  operation,
  type,
  prefix,
  keys,
  buckets,
  onClose,
  onFinished,
}: {
  api: Api;
  operation: BulkOperation;
  type: BucketName;
  prefix: string;
  keys: readonly string[];
  /** The named buckets to offer as destinations besides the storage types. */
  buckets: readonly string[];
  onClose: () => void;
  /** The run ended (done, failed or stopped); `where` names the destination of a move or copy. */
  onFinished: (result: BulkResult, where: string) => void;
}) {
  const [folder, setFolder] = useState(prefix);
  const [destinationType, setDestinationType] = useState<BucketName>(type);
  const [progress, setProgress] = useState<number>();
  const [error, setError] = useState<string>();
  const abort = useRef<AbortController | undefined>(undefined);
  /** The run under way: the selection, then the keys skipped first, when the user overwrites them. */
  const [running, setRunning] = useState<{ keys: readonly string[]; overwrite: boolean }>();
  /** A run that skipped existing destinations, waiting for Overwrite or Keep them. */
  const [asking, setAsking] = useState<{ result: BulkResult; to: string; where: string }>();
  // The question takes the focus on its harmless answer: an Enter meant for the form overwrites nothing.
  const keepButton = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => keepButton.current?.focus(), [asking]);
  const title = `${TITLE[operation]} ${objectCount(keys.length)}`;

  const run = async (chosen: readonly string[], to: string, overwrite: boolean) => {
    abort.current = new AbortController();
    setRunning({ keys: chosen, overwrite });
    setProgress(0);
    const each = async (key: string) => {
      const name = baseName(key, prefix);
      if (operation === 'delete') await api.remove(type, key);
      else if (operation === 'download') await download(api, type, key, name);
      else {
        try {
          await api.transfer(operation, { type, key }, { type: destinationType, key: to + name }, overwrite);
        } catch (cause) {
          if (cause instanceof ApiError && cause.code === 'DestinationExists') return SKIPPED;
          throw cause;
        }
      }
    };
    const result = await runBulk(operation, chosen, each, setProgress, abort.current.signal);
    setProgress(undefined);
    setRunning(undefined);
    return result;
  };
  const start = async (event: Event) => {
    event.preventDefault();
    const to = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
    if ((operation === 'move' || operation === 'copy') && to === prefix && destinationType === type) {
      setError('The destination is the folder they are in: choose another folder or bucket.');
      return;
    }
    setError(undefined);
    const where = operation === 'move' || operation === 'copy' ? ` to ${destinationType}: ${to || '(top level)'}` : '';
    const result = await run(keys, to, false);
    // Stopped (Stop, Escape) during the last key: nothing more to ask, the dialog is going.
    const stopping = abort.current?.signal.aborted ?? false;
    if (result.skipped.length > 0 && !result.failed && !result.stopped && !stopping) setAsking({ result, to, where });
    else onFinished(result, where);
  };
  const overwrite = async () => {
    if (!asking) return;
    setAsking(undefined);
    const { result, to, where } = asking;
    onFinished(followedBy(result, await run(result.skipped, to, true)), where);
  };
  const keep = () => asking && onFinished(asking.result, asking.where);

  const busy = running !== undefined;
  const doing = running?.overwrite ? 'Overwriting' : DOING[operation];
  return (
    <Dialog title={title} onClose={busy ? () => abort.current?.abort() : asking ? keep : onClose}>
      <form onSubmit={start}>
        {operation === 'delete' && (
          <p>
            This deletes the {objectCount(keys.length)} selected in {prefix || `the top of ${type}`}.
          </p>
        )}
        {operation === 'download' && <p>Each object downloads as its own file, one after another.</p>}
        {(operation === 'move' || operation === 'copy') && (
          <>
            <label>
              Destination folder
              <input
                value={folder}
                placeholder="empty for the top level"
                disabled={busy || asking !== undefined}
                onInput={(event) => setFolder((event.currentTarget as HTMLInputElement).value)}
              />
            </label>
            <DestinationSelect
              value={destinationType}
              from={type}
              buckets={buckets}
              disabled={busy || asking !== undefined}
              onChange={setDestinationType}
            />
          </>
        )}
        {busy ? (
          <div class="bulk-progress">
            <progress max={running.keys.length} value={progress} aria-label={`${doing} the selected objects`} />
            <p role="status">
              {doing} {(progress ?? 0).toLocaleString()} of {objectCount(running.keys.length)}…
            </p>
            <div class="actions">
              <button type="button" onClick={() => abort.current?.abort()}>
                Stop
              </button>
            </div>
          </div>
        ) : asking ? (
          <section class="warning" role="alert" aria-labelledby="exists-heading">
            <h4 id="exists-heading">{skippedSummary(asking.result, asking.where)}</h4>
            <p>
              {asking.result.skipped.length === 1
                ? 'Overwrite it too?'
                : `Overwrite those ${asking.result.skipped.length.toLocaleString()} too?`}
            </p>
            <div class="actions">
              <button type="button" ref={keepButton} onClick={keep}>
                {asking.result.skipped.length === 1 ? 'Keep it' : 'Keep them'}
              </button>
              <button type="button" class="danger" onClick={() => void overwrite()}>
                Overwrite
              </button>
            </div>
          </section>
        ) : (
          <DialogActions error={error} onCancel={onClose}>
            <button type="submit" class={operation === 'delete' ? 'danger' : undefined}>
              {TITLE[operation]}
            </button>
          </DialogActions>
        )}
      </form>
    </Dialog>
  );
}

/** Starts the download of one object through a signed URL (the browser streams it to disk; no copy in memory). */
async function download(api: Api, type: BucketName, key: string, name: string): Promise<void> {
  const url = await api.storage.getSignedUrl(key, { storageType: type, expiresIn: DOWNLOAD_URL_SECONDS, filename: name });
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.click();
  await new Promise((resolve) => setTimeout(resolve, DOWNLOAD_GAP_MS));
}
