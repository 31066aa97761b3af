import {
  MAX_LIST_LIMIT,
  type RestoreKeyResult,
  type RestorePrefixResult,
  type VersionEntry,
  type VersionsPage,
} from 'stowage-client/protocol';
import type { Backend } from '../backends/backend.js';
import { keyAfter, prefixRange, prefixUpperBound } from '../backends/key-range.js';
import type { VersionRow } from '../backends/object-index.js';
import type { PurgeSchedule } from '../backends/purge-schedule.js';
import { fail } from '../errors.js';
import { rulesCovering } from './bucket-expiry.js';
import type { LifecycleRule } from './bucket-model.js';
import type { ObjectRef } from './object-ref.js';

export interface RetentionServiceOptions {
  readonly clock: () => number;
  /** When what writes made now at keys of a type replace is purged, as writes ask it (ObjectService.purgeScheduleFor). */
  readonly purgeScheduleFor: (tenant: string, type: string) => Promise<PurgeSchedule>;
  /** A named bucket's lifecycle rules (lifecycleRulesOf): whether a delete marker left alone goes too. */
  readonly lifecycleRules?: ((tenant: string, type: string) => Promise<readonly LifecycleRule[]>) | undefined;
  /** Where what went wrong after an operation was done is told (the server's log). */
  readonly warn?: ((message: string, error: unknown) => void) | undefined;
}

const TOKEN_VERSION = 1;
/** How long after a removal leaves a delete marker alone ExpiredObjectDeleteMarker removes it. */
export const EXPIRED_MARKER_DELAY_MS = 3_600_000;

/**
 * Undo: the noncurrent versions that retention keeps (overwritten, deleted and moved values, and
 * delete markers), listed, and put back, for one key or for a whole prefix as it was at a time.
 * A restore is a write: what is current before it becomes a version in turn, so a restore can be
 * undone within the window too.
 */
export class RetentionService {
  constructor(
    private readonly backend: Backend,
    private readonly options: RetentionServiceOptions,
  ) {}

  /** A page of the versions under a prefix, by key and newest first. */
  async versions(
    tenant: string,
    type: string,
    query: { prefix: string; pageToken: string | undefined; limit: number },
  ): Promise<VersionsPage> {
    const limit = Math.min(Math.max(1, query.limit), MAX_LIST_LIMIT);
    const now = this.options.clock();
    const after = query.pageToken === undefined ? undefined : decodeVersionToken(query.pageToken, query.prefix);
    // The cursor's place is found again by its version id: the listing's positions move when a
    // version does (a delete kept in place that the sweeper files, a current value replaced).
    const moved =
      after?.versionId === undefined ? undefined : await this.findVersion({ tenant, type, key: after.key }, after.versionId, now);
    const rows = await this.backend.listVersions({
      tenant,
      type,
      ...prefixRange(query.prefix),
      after: after && { key: Buffer.from(after.key, 'utf8'), seq: moved?.seq ?? after.seq },
      limit: limit + 1,
      now,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      versions: page.map(entryOf),
      next: rows.length > limit && last ? encodeVersionToken(query.prefix, last.key, last.seq, last.versionId) : null,
    };
  }

  /**
   * Makes a version of the key current again: `versionId`, or the newest noncurrent one that
   * holds a value. The current value, if any, becomes a version. NoSuchVersion when none is kept.
   */
  async restoreKey(ref: ObjectRef, versionId: string | undefined): Promise<RestoreKeyResult> {
    const now = this.options.clock();
    const chosen = versionId ?? (await this.latestNoncurrent(ref, now))?.versionId;
    if (chosen === undefined) throw fail('NoSuchVersion', `No earlier version of ${ref.type}/${ref.key} is kept`);
    // What the restore replaces is kept like any replaced value (with retention off, until the next purge).
    const purgeAfter = (await this.options.purgeScheduleFor(ref.tenant, ref.type)).at(ref.key) ?? now;
    const info = await this.backend.restoreVersion({ ref, versionId: chosen, now, purgeAfter, collectAfter: now });
    const current = (await this.backend.listVersions({ ...exactKey(ref), after: undefined, limit: 1, now })).find((row) => row.current);
    return { key: ref.key, versionId: current?.versionId ?? null, size: info.size, etag: info.etag, sha256: info.sha256 };
  }

  /**
   * Puts every key under `prefix` back as it was at `at`, a key at a time; `mayChange` says
   * whether the caller may change a key (others are skipped). Running it again converges: keys
   * already as they were are left alone.
   */
  async restorePrefix(
    tenant: string,
    type: string,
    prefix: string,
    at: number,
    mayChange?: (key: string) => boolean,
  ): Promise<RestorePrefixResult> {
    const now = this.options.clock();
    if (!Number.isFinite(at) || at > now) throw fail('InvalidArgument', '"at" must be an instant in the past (ISO 8601)');
    const purge = await this.options.purgeScheduleFor(tenant, type);
    const result = await this.backend.restorePrefix({ tenant, type, prefix, at, now, purge, mayChange });
    return { prefix, at: new Date(at).toISOString(), ...result };
  }

  /**
   * Up to `limit` versions under a prefix as the engine gives them (the S3 front renders its own
   * listing), after `(afterKey, afterVersionId)`: a version id of that key, or none for every
   * version of the key. InvalidArgument (from `invalid`) when the version id is not one of the key's.
   */
  async versionRows(
    tenant: string,
    type: string,
    query: { prefix: string; afterKey: string | undefined; afterVersionId: string | undefined; limit: number },
  ): Promise<VersionRow[]> {
    const now = this.options.clock();
    let after: { key: Buffer; seq: number } | undefined;
    if (query.afterKey !== undefined) {
      const key = Buffer.from(query.afterKey, 'utf8');
      after = { key, seq: 0 };
      if (query.afterVersionId !== undefined) {
        const ref = { tenant, type, key: query.afterKey };
        const found = await this.findVersion(ref, query.afterVersionId, now);
        if (!found) throw fail('InvalidArgument', `${query.afterVersionId} is not a version of ${query.afterKey}`);
        after = { key, seq: found.seq };
      }
    }
    return this.backend.listVersions({ tenant, type, ...prefixRange(query.prefix), after, limit: query.limit, now });
  }

  /**
   * Up to `limit` versions under `prefix`, of the keys past every key that starts with `past` (when
   * given), after a cursor of the listing (`seq` 0: after every version of that key): for a listing
   * that skips what a common prefix stands for.
   */
  async versionRowsPast(
    tenant: string,
    type: string,
    query: { prefix: string; past: string | undefined; after: { key: string; seq: number } | undefined; limit: number },
  ): Promise<VersionRow[]> {
    const range = prefixRange(query.prefix);
    let start = range.start;
    if (query.past !== undefined) {
      const bound = prefixUpperBound(Buffer.from(query.past, 'utf8'));
      if (!bound) return [];
      if (Buffer.compare(bound, start) > 0) start = bound;
    }
    const after = query.after && { key: Buffer.from(query.after.key, 'utf8'), seq: query.after.seq };
    return this.backend.listVersions({ tenant, type, start, end: range.end, after, limit: query.limit, now: this.options.clock() });
  }

  /** The version `versionId` of the key (current or not), as the listing gives it; undefined when none. */
  async findVersion(ref: ObjectRef, versionId: string, now = this.options.clock()): Promise<VersionRow | undefined> {
    let after: { key: Buffer; seq: number } | undefined;
    for (;;) {
      const rows = await this.backend.listVersions({ ...exactKey(ref), after, limit: 100, now });
      const found = rows.find((row) => row.versionId === versionId);
      if (found || rows.length < 100) return found;
      const last = rows.at(-1) as VersionRow;
      after = { key: Buffer.from(last.key, 'utf8'), seq: last.seq };
    }
  }

  /**
   * Removes a version for good (S3's DeleteObject with a version id), whichever it is: when it was
   * the key's current value, or its newest delete marker, the newest version left becomes the key's
   * state again (`promoted`: the version id made current, if a value). `missing` when none.
   */
  async removeVersion(
    ref: ObjectRef,
    versionId: string,
  ): Promise<{ outcome: 'removed' | 'removed-marker'; promoted: string | undefined } | { outcome: 'missing' }> {
    const removed = await this.backend.deleteVersion(ref, versionId);
    if (!removed) return { outcome: 'missing' };
    await this.expireLoneMarker(ref);
    return { outcome: removed.deleteMarker ? 'removed-marker' : 'removed', promoted: removed.promoted };
  }

  /**
   * S3's ExpiredObjectDeleteMarker: once a removal leaves a delete marker as its key's only
   * version, under an enabled rule that says so, the marker goes an hour later (the sweeper), not
   * at its own time. Later, not at once, as S3's lifecycle: a client that removes the values and
   * then the markers, in one request or two, finds each marker it names. Best effort: the removal
   * it follows is done, and a marker it misses goes at its time as any other.
   */
  private async expireLoneMarker(ref: ObjectRef): Promise<void> {
    try {
      const rules = (await this.options.lifecycleRules?.(ref.tenant, ref.type)) ?? [];
      if (rulesCovering(rules, ref.key).some((rule) => rule.expiredMarkers === true))
        await this.backend.expireLoneMarker(ref, this.options.clock() + EXPIRED_MARKER_DELAY_MS);
    } catch (error) {
      // As said: the marker stays until its own time.
      this.options.warn?.(`could not hasten the delete marker left alone at ${ref.type}/${ref.key}`, error);
    }
  }

  /** Bytes and count of the noncurrent versions of a tenant (of one type when given). */
  retained(tenant: string, type?: string): Promise<{ bytes: number; versions: number }> {
    return this.backend.retained(tenant, type);
  }

  private async latestNoncurrent(ref: ObjectRef, now: number): Promise<VersionRow | undefined> {
    let after: { key: Buffer; seq: number } | undefined;
    for (;;) {
      const rows = await this.backend.listVersions({ ...exactKey(ref), after, limit: 100, now });
      const found = rows.find((row) => !row.current && !row.deleteMarker);
      if (found || rows.length < 100) return found;
      const last = rows.at(-1) as VersionRow;
      after = { key: Buffer.from(last.key, 'utf8'), seq: last.seq };
    }
  }
}

/** The index range of exactly one key. */
function exactKey(ref: ObjectRef) {
  const start = Buffer.from(ref.key, 'utf8');
  return { tenant: ref.tenant, type: ref.type, start, end: keyAfter(start) };
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

export function entryOf(row: VersionRow): VersionEntry {
  return {
    key: row.key,
    versionId: row.versionId,
    current: row.current,
    isDeleteMarker: row.deleteMarker,
    size: row.row.size,
    sha256: row.row.sha256,
    lastModified: new Date(row.row.lastModified).toISOString(),
    since: new Date(row.since).toISOString(),
    deletedAt: iso(row.stoppedAt),
    purgeAfter: iso(row.purgeAfter),
  };
}

function encodeVersionToken(prefix: string, key: string, seq: number, versionId: string): string {
  return Buffer.from(JSON.stringify([TOKEN_VERSION, prefix, key, seq, versionId]), 'utf8').toString('base64url');
}

function decodeVersionToken(token: string, prefix: string): { key: string; seq: number; versionId: string | undefined } {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw fail('InvalidPageToken');
  }
  // A token made before tokens named the version (four fields) is still taken, by its position.
  if (!Array.isArray(decoded) || decoded.length < 4 || decoded.length > 5 || decoded[0] !== TOKEN_VERSION) throw fail('InvalidPageToken');
  const [, tokenPrefix, key, seq, versionId] = decoded as [number, unknown, unknown, unknown, unknown];
  if (tokenPrefix !== prefix) throw fail('InvalidPageToken', 'The X-NEXT token belongs to a listing with another prefix');
  if (typeof key !== 'string' || !key.startsWith(prefix) || typeof seq !== 'number') throw fail('InvalidPageToken');
  if (versionId !== undefined && typeof versionId !== 'string') throw fail('InvalidPageToken');
  return { key, seq, versionId };
}
