import { useEffect, useState } from 'preact/hooks';
import { isStorageType } from '../api.js';
import { answersAnonymously, publicUrl } from '../buckets.js';
import { CopyButton } from './CopyButton.js';

/**
 * An object's public link, when its bucket or a folder above it is public: the plain object URL,
 * which opens without a token. `isPublic` is what the bucket's settings say; undefined when the
 * user may not read them, and then an anonymous request tells.
 */
export function PublicLink({ bucket, objectKey, isPublic }: { bucket: string; objectKey: string; isPublic: boolean | undefined }) {
  const url = publicUrl(bucket, objectKey);
  const [answers, setAnswers] = useState<boolean | undefined>(isPublic);
  const [status, setStatus] = useState<string>();

  useEffect(() => {
    setAnswers(isPublic);
    if (isPublic === undefined && !isStorageType(bucket)) void answersAnonymously(url).then(setAnswers);
  }, [bucket, url, isPublic]);

  if (!answers) return null;
  return (
    <section class="public-link" aria-labelledby="public-link-heading">
      <h3 id="public-link-heading">
        Public link <span class="badge public">Public</span>
      </h3>
      <p class="hint">Anyone can open this link without signing in, for as long as the object stays public. It never expires.</p>
      <div class="link-row">
        <label>
          <span class="visually-hidden">Public link of {objectKey}</span>
          <input class="signed-link" readOnly value={url} onFocus={(event) => (event.currentTarget as HTMLInputElement).select()} />
        </label>
        <CopyButton text={url} label="Copy public link" onCopied={setStatus} />
      </div>
      {status && <p role="status">{status}</p>}
    </section>
  );
}
