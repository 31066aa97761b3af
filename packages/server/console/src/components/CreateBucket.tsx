import { useState } from 'preact/hooks';
import { type Api, ApiError, type BucketInfo } from '../api.js';
import { explainBucketError, explainBucketName } from '../buckets.js';
import { Dialog } from './Dialog.js';
import { DialogActions } from './DialogActions.js';

/** A new named bucket: its name checked as it is typed (S3's rules), the server's refusals explained. */
export function CreateBucket({ api, onClose, onCreated }: { api: Api; onClose: () => void; onCreated: (bucket: BucketInfo) => void }) {
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const problem = explainBucketName(name);
  const showProblem = touched && problem !== undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    setTouched(true);
    if (problem) {
      (event.currentTarget as HTMLFormElement).querySelector<HTMLInputElement>('input[name="bucket"]')?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await api.createBucket({ name }));
    } catch (cause) {
      setError(cause instanceof ApiError ? explainBucketError(cause.code, name, cause.message) : String(cause));
      setBusy(false);
    }
  };

  return (
    <Dialog title="New bucket" onClose={onClose}>
      <form onSubmit={submit} noValidate>
        <label>
          Bucket name
          <input
            name="bucket"
            value={name}
            required
            autocomplete="off"
            spellcheck={false}
            autoCapitalize="none"
            aria-invalid={showProblem}
            aria-describedby="bucket-name-rules"
            onInput={(event) => {
              setName((event.currentTarget as HTMLInputElement).value);
              setError(undefined);
            }}
            onBlur={() => name !== '' && setTouched(true)}
          />
        </label>
        <p id="bucket-name-rules" aria-live="polite" class={showProblem ? 'error' : 'hint'}>
          {showProblem
            ? problem
            : '3 to 63 lower-case letters, digits, dots and hyphens, beginning and ending with a letter or digit. Names are shared by every user of this server.'}
        </p>
        <DialogActions error={error} onCancel={onClose}>
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create bucket'}
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}
