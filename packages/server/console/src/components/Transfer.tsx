import { useState } from 'preact/hooks';
import { type Api, type BucketName, isStorageType, STORAGE_TYPES } from '../api.js';
import { Dialog } from './Dialog.js';

/** What a transfer acts on: one key, or a folder (every key under a prefix). */
export type Target = { type: BucketName; key: string; folder: boolean };

/** Rename/move or copy a key or a folder, on the server (no bytes travel), within a bucket or to another. */
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
  const verb = operation === 'move' ? 'Rename or move' : 'Copy';
  // The bucket it is in is always offered, even when the list of buckets does not hold it (yet).
  const destinations = [...new Set([...buckets, ...(isStorageType(target.type) ? [] : [target.type])])].sort();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const to = target.folder && !destination.endsWith('/') ? `${destination}/` : destination;
      const side = target.folder ? 'prefix' : 'key';
      const answer = (await api.transfer(operation, { type: target.type, [side]: target.key }, { type: destinationType, [side]: to })) as {
        objects?: number;
        skipped?: number;
      };
      const done = operation === 'move' ? 'Moved' : 'Copied';
      onDone(
        target.folder
          ? `${done} ${answer.objects ?? 0} keys to ${to}${answer.skipped ? ` (${answer.skipped} skipped: the destination existed)` : ''}`
          : `${done} ${target.key} to ${to}`,
      );
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`${verb} ${target.key}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          {target.folder ? 'New folder path' : 'New key'}
          <input value={destination} required onInput={(event) => setDestination((event.currentTarget as HTMLInputElement).value)} />
        </label>
        <label>
          Storage type or bucket
          <select value={destinationType} onChange={(event) => setDestinationType((event.currentTarget as HTMLSelectElement).value)}>
            <optgroup label="Built-in">
              {STORAGE_TYPES.map((type) => (
                <option key={type} value={type}>
                  {type}
                </option>
              ))}
            </optgroup>
            {destinations.length > 0 && (
              <optgroup label="Buckets">
                {destinations.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </label>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {verb}
        </button>
      </form>
    </Dialog>
  );
}

function copyName(key: string, folder: boolean): string {
  if (folder) return `${key.replace(/\/$/, '')} copy/`;
  const dot = key.lastIndexOf('.');
  const slash = key.lastIndexOf('/');
  return dot > slash + 1 ? `${key.slice(0, dot)} copy${key.slice(dot)}` : `${key} copy`;
}
