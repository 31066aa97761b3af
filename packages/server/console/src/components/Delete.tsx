import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { formatBytes } from '../format.js';
import { formatWindow } from '../versions.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';
import type { Target } from './Transfer.js';

/** Deletes a key, or a folder after saying how many keys and bytes go with it. */
export function Delete({
  api,
  target,
  retentionDays,
  onClose,
  onDone,
}: {
  api: Api;
  target: Target;
  /** The bucket's own retention when known (undefined: not known, null: the server's). */
  retentionDays?: number | null;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [usage, setUsage] = useState<{ objects: number; bytes: number }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (target.folder) api.usage(target.type, target.key).then(setUsage, (cause: Error) => setError(cause.message));
  }, [api, target]);

  const undo =
    retentionDays === 0
      ? 'It cannot be undone.'
      : retentionDays
        ? `It can be restored from Deleted items for ${formatWindow(retentionDays)}.`
        : 'Unless retention is on, it cannot be undone; with retention, it can be restored from Deleted items.';

  const confirm = async () => {
    setBusy(true);
    try {
      if (target.folder) {
        const { deleted, bytes } = await api.deletePrefix(target.type, target.key);
        onDone(`Deleted ${deleted} keys (${formatBytes(bytes)}) under ${target.key}`);
      } else {
        await api.remove(target.type, target.key);
        onDone(`Deleted ${target.key}`);
      }
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Delete ${target.key}`} onClose={onClose}>
      {target.folder ? (
        <p>
          {usage
            ? `This deletes ${usage.objects.toLocaleString()} keys (${formatBytes(usage.bytes)}) under ${target.key}. ${undo}`
            : 'Counting what the folder holds…'}
        </p>
      ) : (
        <p>
          This deletes {target.key}. {undo}
        </p>
      )}
      <DialogActions error={error} onCancel={onClose}>
        <button type="button" class="danger" disabled={busy || (target.folder && !usage)} onClick={confirm}>
          Delete
        </button>
      </DialogActions>
    </Dialog>
  );
}
