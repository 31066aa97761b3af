import { useState } from 'preact/hooks';
import type { Api, BucketName } from '../api.js';
import { formatDate } from '../format.js';
import { instantOf } from '../versions.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';

/** The time to put a folder back to, in the reader's time zone, to the second. */
export function RestoreFolderForm({ top, type, onSubmit }: { top: boolean; type: BucketName; onSubmit: (at: string) => void }) {
  const [local, setLocal] = useState('');
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <form
      class="inline-form"
      onSubmit={(event) => {
        event.preventDefault();
        const at = instantOf(local);
        if (at) onSubmit(at);
      }}
    >
      <label>
        {top ? `Restore the whole of ${type} as it was at` : 'Restore this folder as it was at'}
        <input
          type="datetime-local"
          step={1}
          required
          value={local}
          aria-describedby="restore-zone"
          onInput={(event) => setLocal((event.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button type="submit">Restore…</button>
      <span id="restore-zone" class="hint">
        Your time zone{zone ? ` (${zone})` : ''}.
      </span>
    </form>
  );
}

/** Says what a restore of a folder at a time does, and does it once confirmed. */
export function RestoreFolderDialog({
  api,
  type,
  prefix,
  folder,
  at,
  onClose,
  onDone,
}: {
  api: Api;
  type: BucketName;
  prefix: string;
  /** The folder as the view names it ("reports/", "the top of data"). */
  folder: string;
  at: string;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const when = formatDate(at);

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.restorePrefix(type, prefix, at);
      const skipped = result.skipped ? ` (skipped: not allowed, changed meanwhile, or no longer kept)` : '';
      onDone(
        `Restored ${folder} as it was at ${when}: ${result.restored} restored, ${result.deleted} deleted, ${result.unchanged} unchanged, ${result.skipped} skipped${skipped}.`,
      );
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Restore ${folder}`} onClose={onClose}>
      <div class="confirm-text">
        <p>
          This puts every key under {folder} back as it was at {when}:
        </p>
        <ul>
          <li>keys deleted or replaced since then get back the value they had;</li>
          <li>keys created since then are deleted;</li>
          <li>keys written while the restore runs are left alone.</li>
        </ul>
        <p>What it replaces or deletes is kept as a version, so this can be undone the same way.</p>
      </div>
      <DialogActions error={error} onCancel={onClose}>
        <button type="button" disabled={busy} onClick={confirm}>
          Restore folder
        </button>
      </DialogActions>
    </Dialog>
  );
}
