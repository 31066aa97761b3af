import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api, BucketName } from '../api.js';
import { existingKeys, freeName, type Incoming, numberedName, type Resolution } from '../conflicts.js';
import { Dialog } from './Dialog.js';

/**
 * Before files upload: those whose key holds a value already are asked about one by one (Replace,
 * Keep both as "name (1).ext", Skip; or the same for all of them), then the rest go to
 * `onResolved`. Closing the question uploads nothing of this drop.
 */
export function UploadConflicts({
  api,
  type,
  files,
  onResolved,
}: {
  api: Api;
  type: BucketName;
  files: readonly Incoming[];
  onResolved: (files: Incoming[]) => void;
}) {
  // Once only: the dialog's close event also comes when it goes away after an answer.
  const answered = useRef(false);
  const resolve = (upload: Incoming[]) => {
    if (answered.current) return;
    answered.current = true;
    onResolved(upload);
  };
  const [conflicts, setConflicts] = useState<string[]>();
  const [decided, setDecided] = useState<ReadonlyMap<string, Resolution>>(new Map());
  const [applyToAll, setApplyToAll] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void existingKeys(
      api,
      type,
      files.map((incoming) => incoming.key),
    ).then((found) => {
      const existing = files.map((incoming) => incoming.key).filter((key) => found.has(key));
      if (existing.length === 0) resolve([...files]);
      else setConflicts(existing);
    });
  }, []);

  if (!conflicts) return null;
  const left = conflicts.filter((key) => !decided.has(key));
  const key = left[0];
  if (key === undefined) return null;

  const decide = async (resolution: Resolution) => {
    const all = new Map(decided);
    for (const each of applyToAll ? left : [key]) all.set(each, resolution);
    setDecided(all);
    if (all.size < conflicts.length) return;
    setBusy(true);
    const taken = new Set(files.map((incoming) => incoming.key));
    const upload: Incoming[] = [];
    for (const incoming of files) {
      const chosen = all.get(incoming.key);
      if (chosen === 'skip') continue;
      if (chosen === 'keep-both') {
        const name = await freeName(api, type, incoming.key, taken);
        taken.add(name);
        upload.push({ file: incoming.file, key: name });
      } else upload.push(incoming);
    }
    resolve(upload);
  };

  return (
    <Dialog title={`${key} already exists`} onClose={() => resolve([])}>
      <p>
        {type} already holds a value at {key}
        {conflicts.length > 1 && ` (${conflicts.length - left.length + 1} of ${conflicts.length} files that already exist)`}. Replace it,
        keep both (the upload becomes {numberedName(key.slice(key.lastIndexOf('/') + 1), 1)}), or skip this file?
      </p>
      {left.length > 1 && (
        <label class="check">
          <input
            type="checkbox"
            checked={applyToAll}
            onChange={(event) => setApplyToAll((event.currentTarget as HTMLInputElement).checked)}
          />{' '}
          Apply to all {left.length} files that already exist
        </label>
      )}
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void decide('skip')}>
          Skip
        </button>
        <button type="button" disabled={busy} onClick={() => void decide('keep-both')}>
          Keep both
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void decide('replace')}>
          Replace
        </button>
      </div>
    </Dialog>
  );
}
