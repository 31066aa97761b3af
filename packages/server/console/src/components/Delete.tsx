import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { formatBytes } from '../format.js';
import { formatKeptDays, type KeptDays } from '../versions.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';
import type { Target } from './Transfer.js';

/** Deletes a key, or a folder after saying how many keys and bytes go with it. */
export function Delete({
  api,
  target,
  kept,
  onClose,
  onDone,
}: {
  api: Api;
  target: Target;
  /** How long the bucket keeps what this deletes, when known (keptDays). */
  kept?: KeptDays | undefined;
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
    kept?.most === 0
      ? 'It cannot be undone.'
      : kept
        ? `It can be restored from Deleted items for ${formatKeptDays(kept)}${kept.least === kept.most ? '' : ", by the bucket's lifecycle rules for its keys"}.`
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
