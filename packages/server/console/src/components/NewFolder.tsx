import { useState } from 'preact/hooks';
import { type Api, ApiError, type BucketName } from '../api.js';
import { Dialog } from './Dialog.js';

/**
 * Creates a folder as the S3 and GCS consoles do: a zero-byte object whose key is the folder's
 * path with a trailing slash (`reports/2025/`). It keeps the folder listed while it is empty,
 * across sessions and for every client; the listing inside does not show it.
 */
export function NewFolder({
  api,
  type,
  prefix,
  onClose,
  onCreated,
}: {
  api: Api;
  type: BucketName;
  prefix: string;
  onClose: () => void;
  onCreated: (folder: string) => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = name.trim().replace(/^\/+|\/+$/g, '');
    if (trimmed === '') {
      setError('Give the folder a name.');
      return;
    }
    setBusy(true);
    setError(undefined);
    const folder = `${prefix}${trimmed}/`;
    try {
      await api.storage.set(folder, new Uint8Array(0), { storageType: type, ifNoneMatch: true });
      onCreated(folder);
    } catch (cause) {
      // Already there (as a placeholder): open it all the same.
      if (cause instanceof ApiError && cause.code === 'PreconditionFailed') onCreated(folder);
      else setError(cause instanceof Error ? cause.message : String(cause));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="New folder" onClose={onClose}>
      <form onSubmit={submit}>
        <label>
          Folder name
          <input value={name} required spellcheck={false} onInput={(event) => setName((event.currentTarget as HTMLInputElement).value)} />
        </label>
        <p class="hint">In {prefix || 'the top level'}. A slash makes nested folders (a/b).</p>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Create folder
        </button>
      </form>
    </Dialog>
  );
}
