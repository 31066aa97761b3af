/** A bucket as its rows are kept: a tenant's storage type, or a named bucket under its owner's tenant. */
export interface BucketName {
  readonly tenant: string;
  readonly type: string;
}

/**
 * Settings kept per bucket, in the index beside the objects so that every server of a
 * deployment reads the same. Values are opaque text (JSON) to the index; the domain gives them
 * their shape.
 */
export interface BucketSettingsStore {
  /** The bucket's CORS configuration, or undefined when it has none. */
  findCors(bucket: BucketName): Promise<string | undefined>;
  /** Sets the bucket's CORS configuration (replacing any), or removes it with null. */
  setCors(bucket: BucketName, cors: string | null): Promise<void>;
}
