import { isStorageType } from 'stowage-client/protocol';

/**
 * Named buckets as the index keeps them. A bucket's objects are the rows of (owner, name): the
 * owner's tenant holds them and pays for them (its quota), and the name takes the place of a
 * storage type. Names are one global namespace. The settings are the domain's (grants, policy,
 * public access block, lifecycle) as opaque JSON text; the index knows only what it enforces in a
 * write's own transaction: that the bucket exists, and its byte quota.
 */
export interface BucketRecord {
  readonly name: string;
  readonly owner: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** Most bytes the bucket's visible objects may hold together; null for no bucket quota. */
  readonly quotaBytes: number | null;
  /** The domain's settings, opaque JSON text. */
  readonly settings: string;
  /** User ids the settings grant something to, so a user can list the buckets shared with them. */
  readonly grantees: readonly string[];
  /** Bytes and objects stored, as of the last commit (kept in the write's transaction). */
  readonly bytes: number;
  readonly objects: number;
}

/** What a change of a bucket sets (the rest of the record stays). */
export interface BucketChange {
  readonly quotaBytes: number | null;
  readonly settings: string;
  readonly grantees: readonly string[];
}

/** A bucket to remove: by its owner's tenant, its leftovers' blobs queued after `collectAfter`. */
export interface RemoveBucketOptions {
  readonly name: string;
  readonly owner: string;
  readonly now: number;
  readonly collectAfter: number;
}

export interface BucketStore {
  /** Creates the bucket; false when the name is taken (by anyone: one global namespace). */
  create(bucket: Omit<BucketRecord, 'bytes' | 'objects'>): Promise<boolean>;
  find(name: string): Promise<BucketRecord | undefined>;
  /**
   * Buckets `user` owns or is a grantee of, in name order, after `after` (exclusive), at most
   * `limit`.
   */
  list(options: { user: string; after: string | undefined; limit: number }): Promise<BucketRecord[]>;
  /** How many buckets `owner` owns. */
  countOwned(owner: string): Promise<number>;
  /**
   * Changes a bucket in one transaction: `change` is given the record as it stands (locked) and
   * returns what to set; it may throw to refuse. Undefined when no such bucket.
   */
  update(name: string, change: (current: BucketRecord) => BucketChange): Promise<BucketRecord | undefined>;
  /**
   * Deletes the bucket of `owner` in one transaction, if it holds no visible object and no open
   * upload: 'deleted', 'not-empty' or 'missing'. Expired rows left in it are removed and their
   * blobs queued (after `collectAfter`); its CORS settings go with it.
   */
  remove(options: RemoveBucketOptions): Promise<'deleted' | 'not-empty' | 'missing'>;
}

/** What a row's `type` may be besides a storage type: a bucket's name or an internal type ('.multipart'). */
const TYPE_NAME = /^[a-z0-9.-]{3,63}$/;

/** Whether `type` can name a row's namespace: a storage type, a bucket name, or an internal type. */
export function isObjectType(type: string): boolean {
  return isStorageType(type) || TYPE_NAME.test(type);
}

/**
 * Whether rows of `type` are a named bucket's objects, whose bytes and objects the bucket's row
 * counts (and whose writes need the bucket to exist): neither a built-in storage type nor an
 * internal type (those start with '.').
 */
export function isNamedBucket(type: string): boolean {
  return !isStorageType(type) && !type.startsWith('.');
}

/** Whether the index can keep a bucket of this name: 3-63 of [a-z0-9.-], not reserved (a storage type) nor internal. */
export function isBucketName(name: string): boolean {
  return TYPE_NAME.test(name) && isNamedBucket(name);
}
