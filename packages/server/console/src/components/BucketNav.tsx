import { type BucketInfo, type BucketSummary, STORAGE_TYPES } from '../api.js';

/**
 * The bucket selector: the built-in storage types, the user's named buckets (a badge on those
 * anyone can read) and the buckets others shared with them (with their owner), and "New bucket".
 */
export function BucketNav({
  current,
  buckets,
  infos,
  error,
  onOpen,
  onCreate,
}: {
  current: string;
  buckets: BucketSummary[] | undefined;
  infos: ReadonlyMap<string, BucketInfo>;
  error: string | undefined;
  onOpen: (bucket: string) => void;
  onCreate: () => void;
}) {
  const owned = buckets?.filter((bucket) => bucket.access === 'owner') ?? [];
  const shared = buckets?.filter((bucket) => bucket.access === 'shared') ?? [];
  const item = (name: string, extra?: { owner?: string; isPublic?: boolean }) => {
    const describedBy = [extra?.owner && `owner-${name}`, extra?.isPublic && `public-${name}`].filter(Boolean).join(' ');
    return (
      <li key={name} data-bucket={name}>
        <button
          type="button"
          class="bucket"
          aria-pressed={name === current}
          aria-describedby={describedBy || undefined}
          onClick={() => onOpen(name)}
        >
          {name}
        </button>
        {(extra?.owner || extra?.isPublic) && (
          <span class="meta">
            {extra.owner && (
              <span class="owner" id={`owner-${name}`}>
                owner: {extra.owner}
              </span>
            )}
            {extra.isPublic && (
              <span class="badge public" id={`public-${name}`} title="Anyone can read something in this bucket without signing in">
                Public
              </span>
            )}
          </span>
        )}
      </li>
    );
  };
  return (
    <nav aria-label="Buckets" class="bucket-nav">
      <h2 class="nav-title" id="nav-built-in">
        Built-in
      </h2>
      <ul aria-labelledby="nav-built-in">{STORAGE_TYPES.map((type) => item(type))}</ul>
      <div class="nav-head">
        <h2 class="nav-title" id="nav-yours">
          Your buckets
        </h2>
        <button type="button" class="new-bucket" onClick={onCreate}>
          New bucket
        </button>
      </div>
      {buckets === undefined && !error && <p class="loading">Loading…</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {buckets && owned.length === 0 && <p class="empty">None yet.</p>}
      {owned.length > 0 && (
        <ul aria-labelledby="nav-yours">{owned.map((bucket) => item(bucket.name, { isPublic: infos.get(bucket.name)?.public }))}</ul>
      )}
      <h2 class="nav-title" id="nav-shared">
        Shared with you
      </h2>
      {buckets && shared.length === 0 && <p class="empty">Nothing shared with you yet.</p>}
      {shared.length > 0 && (
        <ul aria-labelledby="nav-shared">
          {shared.map((bucket) => item(bucket.name, { owner: bucket.owner, isPublic: infos.get(bucket.name)?.public }))}
        </ul>
      )}
    </nav>
  );
}
