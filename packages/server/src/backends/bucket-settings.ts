/** A tenant's bucket: one of its storage types, or a named bucket (tenant: its owner, type: its name). */
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
