import type { Readable } from 'node:stream';
import type { StorageType } from 'stowage-client/protocol';
import type { ObjectRef } from '../storage/object-ref.js';

/** What is known about a stored object without reading it. */
export interface ObjectInfo {
  readonly size: number;
  /** Strong ETag, quoted, derived from the content's sha256. */
  readonly etag: string;
  /** Hex sha256 of the content. */
  readonly sha256: string;
  readonly contentType: string;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
  /** Milliseconds since the epoch; undefined when the object never expires. */
  readonly expiresAt: number | undefined;
}

/** The bytes of an object: small ones may come as a buffer, the rest as a stream. */
export type ObjectBody = Buffer | Readable;

export interface WriteOptions {
  readonly contentType: string;
  readonly expiresAt: number | undefined;
  /** Largest accepted body; exceeding it fails with EntityTooLarge as soon as the byte arrives. */
  readonly maxBytes: number;
  /** Declared length: a body that ends before it fails with IncompleteBody. */
  readonly expectedBytes: number | undefined;
  /** Aborts the write and removes whatever it had written. */
  readonly signal: AbortSignal | undefined;
}

export interface ListOptions {
  readonly prefix: string;
  /** Return only keys after this one (exclusive). */
  readonly after: string | undefined;
  readonly limit: number;
  /** Objects that expired at or before this instant are not listed. */
  readonly now: number;
}

export interface ListPage {
  readonly keys: string[];
  /** True when keys after the last one returned remain. */
  readonly truncated: boolean;
}

/**
 * Where objects live. Implementations: the fs backend (files + SQLite). Every method honours
 * visibility at `now`: an expired object does not exist for reads, lists and deletes.
 */
export interface Backend {
  head(ref: ObjectRef, now: number): Promise<ObjectInfo | undefined>;
  read(ref: ObjectRef, now: number): Promise<{ info: ObjectInfo; body: ObjectBody } | undefined>;
  /** Stores `body` under `ref`, replacing any previous value atomically once complete. */
  write(ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo>;
  /** Removes the object; false when there was none visible. */
  delete(ref: ObjectRef, now: number): Promise<boolean>;
  list(tenant: string, type: StorageType, options: ListOptions): Promise<ListPage>;
  /** Physically removes objects that expired at or before `now`; returns how many. */
  sweepExpired(now: number): Promise<number>;
  /** Resolves when the backend can serve (e.g. its database answers). */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
