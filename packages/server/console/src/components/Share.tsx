import { useState } from 'preact/hooks';
import type { Api, StorageType } from '../api.js';
import { Dialog } from './Dialog.js';

const LIFETIMES: Array<[string, number]> = [
  ['1 hour', 3600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
];

/** A signed link with a chosen lifetime, copied to the clipboard; it opens without a token. */
export function Share({ api, type, objectKey, onClose }: { api: Api; type: StorageType; objectKey: string; onClose: () => void }) {
  const [lifetime, setLifetime] = useState(3600);
  const [link, setLink] = useState<string>();
  const [status, setStatus] = useState<string>();

  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const url = await api.signedUrl(type, objectKey, lifetime);
      setLink(url);
      await navigator.clipboard.writeText(url).then(
        () => setStatus('Link copied to the clipboard.'),
        () => setStatus('Copy the link above (the clipboard was not available).'),
      );
    } catch (cause) {
      setStatus(cause instanceof Error ? cause.message : String(cause));
    }
  };

  return (
    <Dialog title={`Share ${objectKey}`} onClose={onClose}>
      <form onSubmit={create}>
        <label>
          Link valid for
          <select value={lifetime} onChange={(event) => setLifetime(Number((event.currentTarget as HTMLSelectElement).value))}>
            {LIFETIMES.map(([label, seconds]) => (
              <option key={seconds} value={seconds}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Create link and copy</button>
      </form>
      {link && (
        <label>
          Signed link
          <input class="signed-link" readOnly value={link} onFocus={(event) => (event.currentTarget as HTMLInputElement).select()} />
        </label>
      )}
      {status && <p role="status">{status}</p>}
    </Dialog>
  );
}
