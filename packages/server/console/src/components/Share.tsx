import { useState } from 'preact/hooks';
import type { Api, BucketName } from '../api.js';
import { Dialog } from './Dialog.js';
import { PublicLink } from './PublicLink.js';

const LIFETIMES: Array<[string, number]> = [
  ['1 hour', 3600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
];

/**
 * A signed link with a chosen lifetime, copied to the clipboard; it opens without a token. For an
 * object that is public (its bucket, or a folder above it, shared with everyone), its public link too.
 */
export function Share({
  api,
  type,
  objectKey,
  isPublic,
  onClose,
}: {
  api: Api;
  type: BucketName;
  objectKey: string;
  /** Whether the bucket's settings make the object public; undefined when they are not known. */
  isPublic: boolean | undefined;
  onClose: () => void;
}) {
  const [lifetime, setLifetime] = useState(3600);
  const [link, setLink] = useState<{ url: string; expires: Date; lifetime: string }>();
  const [status, setStatus] = useState<string>();

  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const url = await api.signedUrl(type, objectKey, lifetime);
      const label = LIFETIMES.find(([, seconds]) => seconds === lifetime)?.[0] ?? `${lifetime} seconds`;
      setLink({ url, expires: new Date(Date.now() + lifetime * 1000), lifetime: label });
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
      <PublicLink bucket={type} objectKey={objectKey} isPublic={isPublic} />
      <h3 class="signed-heading">Signed link</h3>
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
        <>
          <label>
            Signed link
            <input class="signed-link" readOnly value={link.url} onFocus={(event) => (event.currentTarget as HTMLInputElement).select()} />
          </label>
          <p class="expiry">
            The link stops working at <time dateTime={link.expires.toISOString()}>{link.expires.toLocaleString()}</time> (in {link.lifetime}
            ).
          </p>
        </>
      )}
      {status && <p role="status">{status}</p>}
    </Dialog>
  );
}
