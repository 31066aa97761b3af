import { BadRequestError } from './errors.js';
import {
  BUCKETS_PATH,
  type BucketGrant,
  type BucketInfo,
  type BucketList,
  type BucketName,
  type BucketSettingsChange,
  type BucketSummary,
  type CreateBucketRequest,
  type GrantGrantee,
  type GrantPermission,
  type ShareRequest,
  type UnshareRequest,
} from './protocol.js';
import { readErrorResponse, type Transport, type TransportResponse } from './transport.js';

/** Whom a grant is for: one user by id, or a group (every authenticated user, or everyone, anonymous callers too). */
export type GranteeOptions =
  | { readonly user: string; readonly group?: undefined }
  | { readonly group: 'authenticated' | 'everyone'; readonly user?: undefined };

/** A grant in short: the grantee, the permission (default `READ`), the prefix it covers (default: the whole bucket). */
export type GrantOptions = GranteeOptions & {
  readonly permission?: GrantPermission;
  /** Only keys that start with this prefix (`''`, the default: every key of the bucket). */
  readonly prefix?: string;
};

/** What `share` takes: a grant in short, and the call's signal. */
export type ShareOptions = GrantOptions & { readonly signal?: AbortSignal };

/** What `unshare` removes: the grantee's grants, only of this permission and/or this prefix when given. */
export type UnshareOptions = GranteeOptions & {
  readonly permission?: GrantPermission;
  readonly prefix?: string;
  readonly signal?: AbortSignal;
};

/** Options of `buckets.create`. */
export interface CreateBucketOptions {
  /** Most bytes the bucket may hold; null or left out: no limit of its own. */
  readonly quotaBytes?: number | null;
  /** Every key written expires this many days after its write (a lifecycle rule for the prefix ''). */
  readonly expiryDays?: number | null;
  /** Days overwritten, deleted and moved values are kept as restorable versions (0: none); left out or null: the server default. */
  readonly retentionDays?: number | null;
  /** Grants to give from the start: as `share` takes them, or as `info` reports them. */
  readonly grants?: ReadonlyArray<BucketGrant | GrantOptions>;
  readonly signal?: AbortSignal;
}

/** Options of `buckets.list` and `buckets.iterList`. */
export interface ListBucketsOptions {
  /** Buckets asked for per request (1-1000, default 1000). */
  readonly pageSize?: number;
  readonly signal?: AbortSignal;
}

/** Options of the other bucket calls. */
export interface BucketCallOptions {
  readonly signal?: AbortSignal;
}

/**
 * Named buckets (`storage.buckets`): create, list, inspect, configure, share and delete them. A
 * bucket's name goes wherever a storage type does (`storageType: 'team-results'`, `{ type, key }`
 * of copy and move), and its objects count against its owner's quota. Bucket names are one
 * namespace for every user (S3 rules: 3-63 lower-case letters, digits, dots and hyphens).
 *
 * Refusals are the client's error classes: `NotFoundError` (`NoSuchBucket`), `ForbiddenError`
 * (`AccessDenied`: the caller may not do that), `ConflictError` (`BucketAlreadyExists`,
 * `BucketAlreadyOwnedByYou`, `BucketNotEmpty`), `BadRequestError` (`InvalidBucketName`,
 * `TooManyBuckets`), and `AuthError` for an anonymous caller where a bucket is not public.
 *
 * @example
 * await storage.buckets.create('team-results', { quotaBytes: 10 * 2 ** 30 });
 * await storage.set('q1/summary.csv', 'a,b\n1,2\n', { storageType: 'team-results' });
 * await storage.buckets.share('team-results', { user: 'bob', prefix: 'q1/' }); // READ under q1/
 * for await (const { name, access } of storage.buckets.iterList()) console.log(name, access);
 */
export class Buckets {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /**
   * Every bucket the caller owns or was granted something in, in name order (all pages).
   *
   * @example
   * const names = (await storage.buckets.list()).map((bucket) => bucket.name);
   */
  async list(options: ListBucketsOptions = {}): Promise<BucketSummary[]> {
    const all: BucketSummary[] = [];
    for await (const bucket of this.iterList(options)) all.push(bucket);
    return all;
  }

  /**
   * The buckets of {@link list}, page by page as they are read.
   *
   * @example
   * for await (const bucket of storage.buckets.iterList()) if (bucket.access === 'shared') console.log(bucket.name, bucket.owner);
   */
  async *iterList(options: ListBucketsOptions = {}): AsyncGenerator<BucketSummary> {
    let after: string | undefined;
    do {
      const page = await this.listPage({ after, limit: options.pageSize, signal: options.signal });
      yield* page.buckets;
      after = page.next ?? undefined;
    } while (after !== undefined);
  }

  /** One page of {@link list}: up to `limit` buckets after the name `after`, and the `after` of the next page (null at the end). */
  async listPage(
    options: { after?: string | undefined; limit?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<BucketList> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.after) query.set('after', options.after);
    const url = `${BUCKETS_PATH}${query.size ? `?${query}` : ''}`;
    return this.transport.send({ method: 'GET', url, signal: options.signal }, json<BucketList>);
  }

  /**
   * Creates a bucket owned by the caller. Retried after a lost response: a retry that finds the
   * bucket it created (`BucketAlreadyOwnedByYou`) answers with that bucket.
   * @throws {ConflictError} `BucketAlreadyExists` (someone's bucket has the name), `BucketAlreadyOwnedByYou`.
   * @throws {BadRequestError} `InvalidBucketName`, `TooManyBuckets`.
   *
   * @example
   * await storage.buckets.create('scratch-2025', { expiryDays: 30, grants: [{ group: 'authenticated' }] });
   */
  async create(name: string, options: CreateBucketOptions = {}): Promise<BucketInfo> {
    const request: CreateBucketRequest = {
      name: checkedName(name),
      ...(options.quotaBytes !== undefined && { quotaBytes: options.quotaBytes }),
      ...(options.expiryDays !== undefined && { expiryDays: options.expiryDays }),
      ...(options.retentionDays !== undefined && { retentionDays: options.retentionDays }),
      ...(options.grants !== undefined && { grants: options.grants.map(grantOf) }),
    };
    return this.transport.send(
      {
        method: 'POST',
        url: BUCKETS_PATH,
        ...jsonBody(request),
        signal: options.signal,
        acceptStatus: [409],
        retry: this.transport.options.retry.alsoRetrying('POST'),
      },
      async (response) => {
        if (response.statusCode !== 409) return json<BucketInfo>(response);
        const error = await readErrorResponse(response);
        if (error.code === 'BucketAlreadyOwnedByYou' && response.earlierAttemptMayHaveApplied) return this.info(name, options);
        throw error;
      },
    );
  }

  /**
   * A bucket and its settings: owner, quota, usage, grants, whether it is public, expiry rules and
   * policy. For its owner, and for holders of `READ_ACP`.
   * @throws {NotFoundError} `NoSuchBucket`. @throws {ForbiddenError} `AccessDenied`.
   */
  async info(name: string, options: BucketCallOptions = {}): Promise<BucketInfo> {
    return this.transport.send({ method: 'GET', url: bucketUrl(name), signal: options.signal }, json<BucketInfo>);
  }

  /**
   * Changes a bucket's quota, default expiry or public access block (its owner only); what is
   * left out stays, and `null` removes a setting.
   *
   * @example
   * await storage.buckets.update('team-results', { quotaBytes: null, expiryDays: 90 });
   */
  async update(name: string, change: BucketSettingsChange, options: BucketCallOptions = {}): Promise<BucketInfo> {
    // Each setting is set to a value, not moved by one: a repeat changes nothing.
    return this.transport.send(
      {
        method: 'PATCH',
        url: bucketUrl(name),
        ...jsonBody(change),
        signal: options.signal,
        retry: this.transport.options.retry.alsoRetrying('PATCH'),
      },
      json<BucketInfo>,
    );
  }

  /**
   * Deletes an empty bucket (its owner only). A retry after a lost response that finds the bucket
   * gone is a success.
   * @throws {ConflictError} `BucketNotEmpty` while it holds objects. @throws {NotFoundError} `NoSuchBucket`.
   */
  async delete(name: string, options: BucketCallOptions = {}): Promise<void> {
    await this.transport.send({ method: 'DELETE', url: bucketUrl(name), signal: options.signal, acceptStatus: [404] }, async (response) => {
      if (response.statusCode !== 404) {
        await response.body.dump();
        return;
      }
      const error = await readErrorResponse(response);
      if (!(error.code === 'NoSuchBucket' && response.earlierAttemptMayHaveApplied)) throw error;
    });
  }

  /**
   * Gives a user, every authenticated user (`group: 'authenticated'`) or everyone, anonymous
   * callers too (`group: 'everyone'`), a permission in the bucket: `READ` (default: get, head,
   * list), `WRITE` (set, delete), `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`, on every key or on
   * the keys under `prefix`. Sharing the same grant twice keeps one. Answers with the bucket.
   *
   * @example
   * await storage.buckets.share('team-results', { user: 'bob', prefix: 'q1/' });
   * await storage.buckets.share('team-results', { user: 'bob', permission: 'WRITE', prefix: 'q1/' });
   * await storage.buckets.share('team-results', { group: 'everyone', prefix: 'public/' }); // readable without credentials
   */
  async share(name: string, grant: ShareOptions): Promise<BucketInfo> {
    const request: ShareRequest = grantOf(grant);
    return this.aclChange(name, 'share', request, grant.signal);
  }

  /**
   * Removes the grants of a grantee: all of them, or only those of `permission` and/or `prefix`.
   * Answers with the bucket.
   *
   * @example
   * await storage.buckets.unshare('team-results', { user: 'bob', permission: 'WRITE' });
   */
  async unshare(name: string, grant: UnshareOptions): Promise<BucketInfo> {
    const request: UnshareRequest = {
      grantee: granteeOf(grant),
      ...(grant.permission !== undefined && { permission: grant.permission }),
      ...(grant.prefix !== undefined && { prefix: grant.prefix }),
    };
    return this.aclChange(name, 'unshare', request, grant.signal);
  }

  private aclChange(name: string, verb: 'share' | 'unshare', body: ShareRequest | UnshareRequest, signal: AbortSignal | undefined) {
    // Adding a grant that is there, or removing one that is gone, changes nothing: both may be repeated.
    return this.transport.send(
      {
        method: 'POST',
        url: `${bucketUrl(name)}/${verb}`,
        ...jsonBody(body),
        signal,
        retry: this.transport.options.retry.alsoRetrying('POST'),
      },
      json<BucketInfo>,
    );
  }
}

/**
 * A storage type or bucket name as the path segment `/{bucket}/` of storage API v1, refused
 * before any request when it cannot be one.
 * @internal
 */
export function bucketSegment(name: BucketName): string {
  return encodeURIComponent(checkedName(name, 'InvalidStorageType'));
}

/** `name`, unless no request could carry it: then the error the server would answer (with `code`). */
function checkedName(name: unknown, code: 'InvalidStorageType' | 'InvalidBucketName' = 'InvalidBucketName'): string {
  if (typeof name !== 'string') throw new BadRequestError(`A bucket name is a string, not ${typeof name}`, { code });
  if (name === '' || name === '.' || name === '..')
    throw new BadRequestError(`"${name}" is neither a storage type nor a bucket's name`, { code });
  return name;
}

function bucketUrl(name: string): string {
  return `${BUCKETS_PATH}/${encodeURIComponent(checkedName(name))}`;
}

function granteeOf(options: GranteeOptions): GrantGrantee {
  const { user, group } = options as { user?: unknown; group?: unknown };
  if (typeof user === 'string' && user !== '' && group === undefined) return { user };
  if ((group === 'authenticated' || group === 'everyone') && user === undefined) return { group };
  throw new TypeError("a grantee is { user: '<id>' } or { group: 'authenticated' | 'everyone' }");
}

function grantOf(grant: BucketGrant | GrantOptions): BucketGrant {
  if ('grantee' in grant)
    return { grantee: granteeOf(grant.grantee as GranteeOptions), permission: grant.permission, prefix: grant.prefix };
  return { grantee: granteeOf(grant), permission: grant.permission ?? 'READ', prefix: grant.prefix ?? '' };
}

/** A JSON request body, replayable for retries. @internal */
export function jsonBody(value: unknown) {
  const body = new TextEncoder().encode(JSON.stringify(value));
  return {
    headers: { 'content-type': 'application/json' },
    body: { create: () => body, replayable: true, length: body.length },
  };
}

/** A response's JSON body. @internal */
export async function json<T>(response: TransportResponse): Promise<T> {
  return (await response.body.json()) as T;
}
