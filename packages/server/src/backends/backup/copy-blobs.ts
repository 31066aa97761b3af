import type { Readable } from 'node:stream';
import type { NamedBlob } from '../blob-references.js';
import type { BackupStore } from './backup-store.js';

/** Where the blobs of the index being backed up are read. */
export interface BlobSource {
  /** The blob's bytes and its size, or undefined when it is not there (any more). */
  open(blobId: string): Promise<{ size: number; body: Readable } | undefined>;
}

/** A blob whose stored bytes are not the size its row gives: copied as it is, and reported. */
export interface DamagedBlob {
  readonly blobId: string;
  readonly expected: number;
  readonly found: number;
}

export interface BlobCopyProgress {
  /** Blobs looked at, and their bytes (by the index). */
  readonly done: number;
  readonly doneBytes: number;
  /** Of those, written by this run. */
  readonly copied: number;
  readonly copiedBytes: number;
}

export interface BlobCopyResult extends BlobCopyProgress {
  /** Blobs the index names that the source no longer holds. */
  readonly missing: string[];
  readonly damaged: DamagedBlob[];
}

/**
 * Copies the blobs `blobs` names from `source` into `store`, `jobs` at a time, skipping each one
 * the store holds already with the right size (blobs never change: a blob id is its bytes). A
 * blob the source no longer holds is reported, not fatal: the caller decides (a new snapshot, or
 * damage). `afterBlob` runs after each blob written (a failpoint).
 */
export async function copyBlobs(options: {
  /** Read as the copy goes (a statement over an index snapshot): each blob is taken once, by one job. */
  readonly blobs: Iterable<NamedBlob>;
  readonly source: BlobSource;
  readonly store: BackupStore;
  readonly jobs: number;
  readonly onProgress?: ((progress: BlobCopyProgress) => void) | undefined;
  readonly afterBlob?: (() => void) | undefined;
}): Promise<BlobCopyResult> {
  const { blobs, source, store, onProgress, afterBlob } = options;
  const counts = { done: 0, doneBytes: 0, copied: 0, copiedBytes: 0 };
  const missing: string[] = [];
  const damaged: DamagedBlob[] = [];
  const pending = withStoredSizes(blobs, store);
  let failure: { error: unknown } | undefined;
  const take = async (): Promise<{ blob: NamedBlob; stored: () => Promise<number | undefined> } | undefined> => {
    if (failure) return undefined;
    const next = await pending.next();
    return next.done ? undefined : next.value;
  };
  const worker = async () => {
    for (let next = await take(); next; next = await take()) {
      const { blob, stored } = next;
      try {
        const entry = `blobs/${blob.blob_id}`;
        if ((await stored()) !== blob.size) {
          const opened = await source.open(blob.blob_id);
          if (!opened) {
            missing.push(blob.blob_id);
          } else {
            if (opened.size !== blob.size) damaged.push({ blobId: blob.blob_id, expected: blob.size, found: opened.size });
            try {
              await store.write(entry, opened.body, opened.size);
            } finally {
              opened.body.destroy();
            }
            counts.copied++;
            counts.copiedBytes += opened.size;
            afterBlob?.();
          }
        }
        counts.done++;
        counts.doneBytes += blob.size;
        onProgress?.({ ...counts });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.jobs) }, worker));
  } finally {
    await pending.return(undefined);
  }
  if (failure) throw failure.error;
  return { ...counts, missing, damaged };
}

/**
 * Each blob with how to learn the size the store holds for it: from the store's listing when it
 * has one (an S3 prefix: a request per 1,000 blobs instead of one per blob), walked beside the
 * blobs (both in blob id order), else by asking the store (a directory: a stat).
 */
async function* withStoredSizes(
  blobs: Iterable<NamedBlob>,
  store: BackupStore,
): AsyncGenerator<{ blob: NamedBlob; stored: () => Promise<number | undefined> }, void, undefined> {
  const listing = store.listBlobs?.()[Symbol.asyncIterator]();
  let listed = listing && (await listing.next());
  try {
    for (const blob of blobs) {
      if (!listing) {
        yield { blob, stored: () => store.size(`blobs/${blob.blob_id}`) };
        continue;
      }
      while (listed && !listed.done && listed.value.blobId < blob.blob_id) listed = await listing.next();
      // A listing in another order only costs copies: a blob is skipped only when found.
      const size = listed && !listed.done && listed.value.blobId === blob.blob_id ? listed.value.size : undefined;
      yield { blob, stored: async () => size };
    }
  } finally {
    await listing?.return?.();
  }
}
