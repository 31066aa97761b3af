import {
  type CopyKeyResult,
  type CopyPrefixResult,
  type DeleteManyItem,
  type DeleteManyResult,
  type DeletePrefixResult,
  ERRORS,
  explainInvalidKey,
  type FolderListing,
  MAX_DELETE_MANY_KEYS,
  MAX_LIST_LIMIT,
  type ObjectDetails,
  type PrefixUsage,
} from 'stowage-client/protocol';
import type { Backend, WriteCondition } from '../backends/backend.js';
import type { ListEntry } from '../backends/folder-listing.js';
import { PurgeSchedule } from '../backends/purge-schedule.js';
import { fail } from '../errors.js';
import type { ParsedCopyRequest } from './copy-request.js';
import { decodeFolderToken, encodeFolderToken, type FolderListingShape } from './folder-page-token.js';

export interface PrefixServiceOptions {
  readonly clock: () => number;
  /** When objects written now at keys of a type expire (ObjectService.expiryOf). */
  readonly expiryOf: (tenant: string, type: string) => Promise<(key: string) => number | undefined>;
  /** When what writes made now at keys of a type replace is purged (ObjectService.purgeScheduleFor). */
  readonly purgeScheduleFor?: ((tenant: string, type: string) => Promise<PurgeSchedule>) | undefined;
}

const ACCESS_DENIED = 'access denied';

/** `delete_many`'s body `{"keys": [...]}`, checked: 1 to MAX_DELETE_MANY_KEYS strings. */
export function parseDeleteMany(body: unknown): string[] {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string'))
    throw fail('InvalidRequestBody', 'The body must be {"keys": ["key", ...]}');
  if (keys.length === 0 || keys.length > MAX_DELETE_MANY_KEYS)
    throw fail('InvalidArgument', `Send 1 to ${MAX_DELETE_MANY_KEYS} keys per request (got ${keys.length})`);
  return keys;
}

/** A page of a folder or detailed listing, and the token of the next. */
export interface FolderListingPage extends FolderListing<string | ObjectDetails> {
  readonly next: string | undefined;
}

/**
 * Operations on many keys at once (Stowage extensions of storage API v1): delete by prefix and
 * by list, usage of a prefix, server-side copy and move, and listing by folder or with details.
 */
export class PrefixService {
  constructor(
    private readonly backend: Backend,
    private readonly options: PrefixServiceOptions,
  ) {}

  async deletePrefix(tenant: string, type: string, prefix: string, all: boolean): Promise<DeletePrefixResult> {
    if (prefix === '' && !all) throw fail('ConfirmationRequired', `An empty prefix deletes every key of ${type}: add all=true to mean it`);
    const { objects, bytes } = await this.backend.deletePrefix(
      tenant,
      type,
      prefix,
      this.options.clock(),
      await this.purgeSchedule(tenant, type),
    );
    return { deleted: objects, bytes };
  }

  /**
   * Deletes up to MAX_DELETE_MANY_KEYS keys in one index transaction, with a result per key in
   * request order: deleted, NoSuchKey, or InvalidKey (never sent to the index).
   */
  async deleteKeys(
    tenant: string,
    type: string,
    keys: readonly string[],
    refused: ReadonlySet<string> = new Set(),
  ): Promise<DeleteManyResult> {
    const problems = keys.map((key) => explainInvalidKey(key) ?? (refused.has(key) ? ACCESS_DENIED : undefined));
    const valid = keys.filter((_, i) => problems[i] === undefined);
    const sizes =
      valid.length > 0
        ? await this.backend.deleteMany(tenant, type, valid, this.options.clock(), await this.purgeSchedule(tenant, type))
        : [];
    // `sizes` follows `valid`, the keys in request order without the invalid ones.
    let next = 0;
    let deleted = 0;
    let bytes = 0;
    const results = keys.map((key, i): DeleteManyItem => {
      const problem = problems[i];
      if (problem === ACCESS_DENIED) return { key, deleted: false, code: 'AccessDenied', message: ERRORS.AccessDenied.message };
      if (problem) return { key, deleted: false, code: 'InvalidKey', message: problem };
      const size = sizes[next++];
      if (size === undefined) return { key, deleted: false, code: 'NoSuchKey', message: ERRORS.NoSuchKey.message };
      deleted++;
      bytes += size;
      return { key, deleted: true };
    });
    return { deleted, bytes, results };
  }

  async usage(tenant: string, type: string, prefix: string): Promise<PrefixUsage> {
    const { objects, bytes } = await this.backend.countPrefix(tenant, type, prefix, this.options.clock());
    return { type, prefix, objects, bytes };
  }

  /**
   * `POST /copy` and `POST /move`, authorized and located by the route: one key (If-Match on the
   * source), or every key under a prefix (within one tenant's rows: the buckets of one owner).
   */
  async transfer(
    from: { readonly tenant: string },
    to: { readonly tenant: string },
    request: ParsedCopyRequest,
    condition: WriteCondition | undefined,
    move: boolean,
  ): Promise<CopyKeyResult | CopyPrefixResult> {
    const { source, destination, overwrite } = request;
    const now = this.options.clock();
    const expiryOf = await this.options.expiryOf(to.tenant, destination.type);
    const expiresAtIfNone = (key: string) => expiryOf(key) ?? null;
    const purge = await this.purgeSchedule(to.tenant, destination.type);
    const sourcePurge = move ? await this.purgeSchedule(from.tenant, source.type) : PurgeSchedule.none;
    if ('key' in source && 'key' in destination) {
      const info = await this.backend.transferKey({
        from: { tenant: from.tenant, type: source.type, key: source.key },
        to: { tenant: to.tenant, type: destination.type, key: destination.key },
        move,
        overwrite,
        condition,
        now,
        expiresAtIfNone: expiresAtIfNone(destination.key),
        purgeAfter: purge.at(destination.key),
        sourcePurgeAfter: sourcePurge.at(source.key),
      });
      return { type: destination.type, key: destination.key, size: info.size, etag: info.etag, sha256: info.sha256 };
    }
    if (condition) throw fail('InvalidArgument', 'If-Match applies to a single-key copy or move, not to a prefix');
    if (!('prefix' in source) || !('prefix' in destination)) throw new Error('parseCopyRequest let a mixed request through');
    if (from.tenant !== to.tenant)
      throw fail('InvalidArgument', 'A prefix is copied or moved between buckets of one owner; copy keys one by one between owners');
    return this.backend.transferPrefix({
      tenant: from.tenant,
      fromType: source.type,
      fromPrefix: source.prefix,
      toType: destination.type,
      toPrefix: destination.prefix,
      move,
      overwrite,
      now,
      expiresAtIfNone,
      purge,
      sourcePurge,
    });
  }

  private purgeSchedule(tenant: string, type: string): Promise<PurgeSchedule> {
    return this.options.purgeScheduleFor?.(tenant, type) ?? Promise.resolve(PurgeSchedule.none);
  }

  /** A page of keys one level down and their folders, or of keys with their details. */
  async listFolder(
    tenant: string,
    type: string,
    query: FolderListingShape & { pageToken: string | undefined; limit: number },
  ): Promise<FolderListingPage> {
    if (query.delimiter === '') throw fail('InvalidArgument', 'delimiter must not be empty');
    const start = query.pageToken === undefined ? Buffer.from(query.prefix, 'utf8') : decodeFolderToken(query.pageToken, query);
    const page = await this.backend.listFolder({
      tenant,
      type,
      prefix: query.prefix,
      delimiter: query.delimiter,
      details: query.details,
      start,
      limit: Math.min(Math.max(1, query.limit), MAX_LIST_LIMIT),
      now: this.options.clock(),
    });
    const objects: Array<string | ObjectDetails> = [];
    const folders: string[] = [];
    for (const entry of page.entries) {
      if (entry.kind === 'folder') folders.push(entry.prefix);
      else objects.push(query.details ? detailsOf(entry) : entry.key);
    }
    return { objects, folders, next: page.next && encodeFolderToken(query, page.next) };
  }
}

function detailsOf(entry: Extract<ListEntry, { kind: 'object' }>): ObjectDetails {
  const row = entry.row;
  if (!row) throw new Error(`the detailed scan returned ${entry.key} without its row`);
  return {
    key: entry.key,
    size: row.size,
    etag: `"${row.sha256}"`,
    sha256: row.sha256,
    lastModified: new Date(row.lastModified).toISOString(),
    contentType: row.contentType,
    expiresAt: row.expiresAt === null ? null : new Date(row.expiresAt).toISOString(),
    metadata: { ...(row.attributes?.metadata ?? {}) },
    cacheControl: row.attributes?.cacheControl ?? null,
    contentDisposition: row.attributes?.contentDisposition ?? null,
  };
}
