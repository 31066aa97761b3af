import type { Readable } from 'node:stream';
import { MAX_LIST_LIMIT, type StorageType } from 'stowage-client/protocol';
import type { Backend, ObjectBody, ObjectInfo } from '../backends/backend.js';
import { fail } from '../errors.js';
import type { ObjectRef } from './object-ref.js';
import { decodePageToken, encodePageToken } from './page-token.js';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface ObjectServiceOptions {
  readonly tmpTtlMs: number;
  readonly maxObjectBytes: number;
  readonly clock: () => number;
}

export interface PutOptions {
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface ListResult {
  readonly keys: string[];
  /** Token for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

/**
 * The storage domain: storage-type rules (tmp expiry), limits, paging. Talks only to the
 * Backend, so every backend gets the same semantics.
 */
export class ObjectService {
  constructor(
    private readonly backend: Backend,
    private readonly options: ObjectServiceOptions,
  ) {}

  async head(ref: ObjectRef): Promise<ObjectInfo> {
    const info = await this.backend.head(ref, this.options.clock());
    if (!info) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
    return info;
  }

  async read(ref: ObjectRef): Promise<{ info: ObjectInfo; body: ObjectBody }> {
    const found = await this.backend.read(ref, this.options.clock());
    if (!found) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
    return found;
  }

  async put(ref: ObjectRef, body: Readable, options: PutOptions): Promise<ObjectInfo> {
    const { maxObjectBytes } = this.options;
    if (options.contentLength !== undefined && options.contentLength > maxObjectBytes) {
      throw fail('EntityTooLarge', `Content-Length ${options.contentLength} exceeds the limit of ${maxObjectBytes} bytes`);
    }
    return this.backend.write(ref, body, {
      contentType: options.contentType || DEFAULT_CONTENT_TYPE,
      expiresAt: this.expiryFor(ref.type),
      maxBytes: maxObjectBytes,
      expectedBytes: options.contentLength,
      signal: options.signal,
    });
  }

  async delete(ref: ObjectRef): Promise<void> {
    const existed = await this.backend.delete(ref, this.options.clock());
    if (!existed) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
  }

  async list(
    tenant: string,
    type: StorageType,
    query: { prefix: string; pageToken: string | undefined; limit: number },
  ): Promise<ListResult> {
    const limit = Math.min(Math.max(1, query.limit), MAX_LIST_LIMIT);
    const after = query.pageToken === undefined ? undefined : decodePageToken(query.pageToken, query.prefix);
    const page = await this.backend.list(tenant, type, { prefix: query.prefix, after, limit, now: this.options.clock() });
    const last = page.keys.at(-1);
    return { keys: page.keys, next: page.truncated && last !== undefined ? encodePageToken(query.prefix, last) : undefined };
  }

  /** Removes expired objects for good (they are already invisible). */
  async sweep(): Promise<number> {
    return this.backend.sweepExpired(this.options.clock());
  }

  private expiryFor(type: StorageType): number | undefined {
    return type === 'tmp' ? this.options.clock() + this.options.tmpTtlMs : undefined;
  }
}
