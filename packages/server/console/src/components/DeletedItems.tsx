import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Api, BucketName, VersionEntry } from '../api.js';
import { formatBytes, formatDate } from '../format.js';
import { baseName } from '../keys.js';
import { formatKeptDays, type KeptDays, type KeptValue, keptValues, retentionWindowDays, shortVersion } from '../versions.js';
import { RestoreFolderDialog, RestoreFolderForm } from './RestoreFolder.js';

/** Each "Load more" reads pages of versions until it has this many more rows to show... */
const ROWS_PER_LOAD = 100;
/** ...or has read this many pages (of 1000 versions): a folder of many unchanged keys still answers soon. */
const PAGES_PER_LOAD = 5;
const OFF_HINT = "Deleted items are kept only when retention is on: STOWAGE_RETENTION or the bucket's retention.";

interface Loaded {
  versions: VersionEntry[];
  next: string | undefined;
}

/**
 * A folder's deleted items: the earlier values retention keeps of the keys under it (deleted ones
 * and replaced ones), each restorable, and the whole folder put back as it was at a time.
 */
export function DeletedItems({
  api,
  type,
  prefix,
  filter,
  keptDays,
  onChanged,
}: {
  api: Api;
  type: BucketName;
  /** The folder on screen; `filter` narrows the listing to names under it that start with it. */
  prefix: string;
  filter: string;
  /** How long the bucket keeps what is deleted or replaced under the folder, when its settings say (keptDays). */
  keptDays: KeptDays | undefined;
  /** After a restore: the folder's listing changed. */
  onChanged: () => void;
}) {
  const [loaded, setLoaded] = useState<Loaded>();
  const [loading, setLoading] = useState(false);
  const [status, setStatus] = useState<{ text: string; error?: boolean }>();
  const [busy, setBusy] = useState<string>();
  const [confirming, setConfirming] = useState<{ at: string }>();
  const generation = useRef(0);
  const statusRef = useRef<HTMLParagraphElement>(null);
  const folder = prefix === '' ? `the top of ${type}` : prefix;

  const read = useCallback(
    async (from: Loaded | undefined) => {
      const mine = ++generation.current;
      setLoading(true);
      try {
        let versions = from?.versions ?? [];
        let next = from?.next;
        const before = keptValues(versions).length;
        let pages = 0;
        do {
          const page = await api.versions(type, prefix + filter, next);
          versions = [...versions, ...page.versions];
          next = page.next ?? undefined;
          pages++;
        } while (next && pages < PAGES_PER_LOAD && keptValues(versions).length - before < ROWS_PER_LOAD);
        if (mine === generation.current) setLoaded({ versions, next });
      } catch (cause) {
        if (mine === generation.current) setStatus({ text: cause instanceof Error ? cause.message : String(cause), error: true });
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [api, type, prefix, filter],
  );

  useEffect(() => {
    setLoaded(undefined);
    setStatus(undefined);
    void read(undefined);
  }, [read]);

  /** Says what happened where the focus can go (the button pressed may be gone), and reads the folder again. */
  const report = (text: string, error = false) => {
    setStatus({ text, error });
    requestAnimationFrame(() => statusRef.current?.focus());
    if (!error) {
      void read(undefined);
      onChanged();
    }
  };

  const restore = async (value: KeptValue) => {
    const name = baseName(value.key, prefix);
    setBusy(value.versionId);
    try {
      await api.restoreKey(type, value.key, value.versionId);
      report(`Restored ${name}: the value ${value.change} ${formatDate(value.at)} is current again.`);
    } catch (cause) {
      report(`${name} was not restored: ${cause instanceof Error ? cause.message : String(cause)}`, true);
    } finally {
      setBusy(undefined);
    }
  };

  const kept = loaded ? keptValues(loaded.versions) : [];
  const days = retentionWindowDays(keptDays, kept);
  const canRestoreFolder = kept.length > 0 || (days !== undefined && days.most > 0);

  return (
    <section class="deleted" aria-labelledby="deleted-heading" aria-busy={loading}>
      <h2 id="deleted-heading">Deleted items in {folder}</h2>
      {status && (
        <p ref={statusRef} tabIndex={-1} role={status.error ? 'alert' : 'status'} class={status.error ? 'error' : 'message'}>
          {status.text}
        </p>
      )}
      {loaded && (
        <p class="hint">
          {kept.length > 0
            ? `Earlier values of the keys under ${folder} that were deleted or replaced${days && days.most > 0 ? `, kept for ${formatKeptDays(days)}` : ''}. Restoring one makes it current again; what it replaces is kept in turn.`
            : days?.most === 0
              ? `Retention is off for this bucket: what is deleted or replaced here is not kept. ${OFF_HINT}`
              : days
                ? `Nothing deleted or replaced under ${folder} is kept now. This bucket keeps what is deleted or replaced here for ${formatKeptDays(days)}.`
                : `Nothing deleted or replaced under ${folder} is kept. ${OFF_HINT}`}
        </p>
      )}
      {!loaded && loading && <p class="loading">Loading deleted items…</p>}
      {canRestoreFolder && <RestoreFolderForm top={prefix === ''} type={type} onSubmit={(at) => setConfirming({ at })} />}
      {kept.length > 0 && (
        <div class="table-scroll">
          <table class="listing versions">
            <caption class="visually-hidden">Deleted and replaced values under {folder}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Size</th>
                <th scope="col">What happened</th>
                <th scope="col" class="wide-only">
                  Version
                </th>
                <th scope="col" class="wide-only">
                  Kept until
                </th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {kept.map((value) => {
                const name = baseName(value.key, prefix);
                return (
                  <tr key={`${value.key}\n${value.versionId}`} data-key={value.key} data-version={value.versionId}>
                    <th scope="row">{name}</th>
                    <td>{formatBytes(value.size)}</td>
                    <td>
                      {value.change === 'deleted' ? 'Deleted' : 'Replaced'} {formatDate(value.at)}
                    </td>
                    <td class="wide-only">
                      <code title={value.versionId}>{shortVersion(value.versionId)}</code>
                    </td>
                    <td class="wide-only">{formatDate(value.purgeAfter)}</td>
                    <td>
                      <div class="row-actions">
                        {value.sameAsNow ? (
                          <span class="state">Same as now</span>
                        ) : (
                          <button
                            type="button"
                            aria-label={`Restore ${name} (version ${shortVersion(value.versionId)}, ${value.change} ${formatDate(value.at)})`}
                            disabled={busy !== undefined}
                            onClick={() => void restore(value)}
                          >
                            Restore
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {loaded?.next && (
        <button type="button" class="more" disabled={loading} onClick={() => void read(loaded)}>
          Load more
        </button>
      )}
      {confirming && (
        <RestoreFolderDialog
          api={api}
          type={type}
          prefix={prefix}
          folder={folder}
          at={confirming.at}
          onClose={() => setConfirming(undefined)}
          onDone={(text) => {
            setConfirming(undefined);
            report(text);
          }}
        />
      )}
    </section>
  );
}
