import { useEffect, useState } from 'preact/hooks';
import { type Api, ApiError, type BucketInfo } from '../api.js';
import { explainBucketError } from '../buckets.js';
import { formatBytes } from '../format.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';

/** Deletes a named bucket (its owner only) after a confirmation; a bucket that holds objects is explained, not deleted. */
export function DeleteBucket({
  api,
  name,
  onClose,
  onDeleted,
}: {
  api: Api;
  name: string;
  onClose: () => void;
  onDeleted: (name: string) => void;
}) {
  const [info, setInfo] = useState<BucketInfo>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.bucketInfo(name).then(setInfo, (cause: Error) => setError(cause.message));
  }, [api, name]);

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.deleteBucket(name);
      onDeleted(name);
    } catch (cause) {
      setError(cause instanceof ApiError ? explainBucketError(cause.code, name, cause.message) : String(cause));
      setBusy(false);
    }
  };

  const holds = info !== undefined && info.objects > 0;
  return (
    <Dialog title={`Delete bucket ${name}`} onClose={onClose}>
      {info === undefined && !error && <p>Looking at what the bucket holds…</p>}
      {info && !holds && (
        <p>
          This deletes the bucket {name} and every grant it has: whoever it is shared with loses access, and its public links stop working.
          It cannot be undone.
        </p>
      )}
      {holds && !error && (
        <p class="error">
          {name} still holds {info.objects.toLocaleString()} {info.objects === 1 ? 'object' : 'objects'} ({formatBytes(info.bytes)}). Only
          an empty bucket can be deleted: delete its files and folders first, then delete the bucket.
        </p>
      )}
      <DialogActions error={error} onCancel={onClose}>
        <button type="button" class="danger" disabled={busy || (info === undefined && !error)} onClick={confirm}>
          Delete bucket
        </button>
      </DialogActions>
    </Dialog>
  );
}
