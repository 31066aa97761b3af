import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketName } from '../api.js';
import { DestinationSelect } from './DestinationSelect.js';
import { Dialog } from './Dialog.js';

/** What a transfer acts on: one key, or a folder (every key under a prefix). */
export type Target = { type: BucketName; key: string; folder: boolean };

/**
 * Rename/move or copy a key or a folder, on the server (no bytes travel), within a bucket or to
 * another. What would land on an existing key is kept unless the user then chooses Overwrite.
 */
export function Transfer({
  api,
  operation,
  target,
  buckets,
  onClose,
  onDone,
}: {
  api: Api;
  operation: 'move' | 'copy';
  target: Target;
  /** The named buckets to offer as destinations besides the storage types. */
  buckets: readonly string[];
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [destination, setDestination] = useState(operation === 'copy' ? copyName(target.key, target.folder) : target.key);
  const [destinationType, setDestinationType] = useState<BucketName>(target.type);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  /** What exists at the destination: the key, or how many keys of the folder were skipped (and what was done). */
  const [conflict, setConflict] = useState<{ key: string } | { skipped: number; done: string }>();
  const overwriteButton = useRef<HTMLButtonElement>(null);
  useLayoutEffect(() => overwriteButton.current?.focus(), [conflict]);
  const verb = operation === 'move' ? 'Rename or move' : 'Copy';

  const to = target.folder && !destination.endsWith('/') ? `${destination}/` : destination;
  const done = operation === 'move' ? 'Moved' : 'Copied';
  const run = async (overwrite: boolean) => {
    setBusy(true);
    setError(undefined);
    setConflict(undefined);
    try {
      const side = target.folder ? 'prefix' : 'key';
      const answer = (await api.transfer(
        operation,
        { type: target.type, [side]: target.key },
        { type: destinationType, [side]: to },
        overwrite,
      )) as {
        objects?: number;
        skipped?: number;
      };
      const message = target.folder ? `${done} ${answer.objects ?? 0} keys to ${to}` : `${done} ${target.key} to ${to}`;
      if (answer.skipped) setConflict({ skipped: answer.skipped, done: message });
      else onDone(message);
    } catch (cause) {
      if (cause instanceof ApiError && cause.code === 'DestinationExists') setConflict({ key: to });
      else setError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void run(false);
  };

  return (
    <Dialog title={`${verb} ${target.key}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          {target.folder ? 'New folder path' : 'New key'}
          <input value={destination} required onInput={(event) => setDestination((event.currentTarget as HTMLInputElement).value)} />
        </label>
        <DestinationSelect value={destinationType} from={target.type} buckets={buckets} onChange={setDestinationType} />
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        {!conflict && (
          <button type="submit" disabled={busy}>
            {verb}
          </button>
        )}
      </form>
      {conflict && (
        <section class="warning" aria-labelledby="exists-heading">
          <h4 id="exists-heading">
            {'key' in conflict
              ? `${conflict.key} already exists in ${destinationType}`
              : `${conflict.done}; ${conflict.skipped} skipped: they already exist there`}
          </h4>
          <p>{'key' in conflict ? `Overwrite it with ${target.key}?` : `Overwrite those ${conflict.skipped} keys too?`}</p>
          <div class="actions">
            <button
              type="button"
              onClick={() =>
                'key' in conflict ? setConflict(undefined) : onDone(`${conflict.done} (${conflict.skipped} kept as they were)`)
              }
            >
              {'key' in conflict ? 'Choose another name' : 'Keep them'}
            </button>
            <button type="button" class="danger" disabled={busy} ref={overwriteButton} onClick={() => void run(true)}>
              Overwrite
            </button>
          </div>
        </section>
      )}
    </Dialog>
  );
}

function copyName(key: string, folder: boolean): string {
  if (folder) return `${key.replace(/\/$/, '')} copy/`;
  const dot = key.lastIndexOf('.');
  const slash = key.lastIndexOf('/');
  return dot > slash + 1 ? `${key.slice(0, dot)} copy${key.slice(dot)}` : `${key} copy`;
}
