import type { BucketStore } from '../backends/buckets.js';
import { fail } from '../errors.js';
import { authorize, type Denial, isPublicGrantee } from './authorizer.js';
import type { Action, Bucket, BucketSettings, Grant, Principal } from './bucket-model.js';
import { EMPTY_BUCKET_SETTINGS } from './bucket-model.js';
import { explainInvalidBucketName, isReservedBucketName, isStorageTypeOrBucketName } from './bucket-names.js';
import { bucketOf, encodeSettings, granteesOf } from './bucket-settings-codec.js';
import { isPublicPolicy } from './public-buckets.js';

export interface BucketServiceOptions {
  /** Most buckets one user may own. */
  readonly maxBucketsPerUser: number;
  readonly clock: () => number;
}

/**
 * A removed bucket's leftovers are expired objects, which no read can start on; a read that began
 * before they expired finishes within this (the S3 blob store's grace for replaced blobs).
 */
const LEFTOVER_GRACE_MS = 60_000;

/** What a change of a bucket sets; what it leaves out stays. */
export interface BucketUpdate {
  readonly settings?: BucketSettings;
  readonly quotaBytes?: number | null;
}

/** A page of buckets in name order; `next` resumes after the last one when more follow. */
export interface BucketPage {
  readonly buckets: Bucket[];
  readonly next: string | undefined;
}

/**
 * Named buckets: one global namespace of S3-style names, each owned by the user who created it,
 * its objects held (and paid for) by the owner's tenant. Creation, removal and every change of
 * the settings are authorized by the one decision (authorizer.ts), inside the transaction that
 * makes the change, so a change judged by settings that changed meanwhile cannot slip through.
 */
export class BucketService {
  constructor(
    private readonly store: BucketStore,
    private readonly options: BucketServiceOptions,
  ) {}

  async create(owner: string, name: string, initial: BucketUpdate = {}): Promise<Bucket> {
    const problem = explainInvalidBucketName(name);
    if (problem) throw fail('InvalidBucketName', `"${name}" is not a bucket name: ${problem}`);
    if (isReservedBucketName(name))
      throw fail('InvalidBucketName', `"${name}" is reserved (a built-in bucket or a path of the storage API)`);
    const settings = initial.settings ?? EMPTY_BUCKET_SETTINGS;
    assertPublicAllowed(settings, settings);
    if ((await this.store.countOwned(owner)) >= this.options.maxBucketsPerUser)
      throw fail('TooManyBuckets', `You own ${this.options.maxBucketsPerUser} buckets, the most a user may (STOWAGE_MAX_BUCKETS)`);
    const created = await this.store.create({
      name,
      owner,
      createdAt: this.options.clock(),
      quotaBytes: initial.quotaBytes ?? null,
      settings: encodeSettings(settings),
      grantees: granteesOf(settings),
    });
    if (!created) {
      const holder = await this.store.find(name);
      if (holder?.owner === owner) throw fail('BucketAlreadyOwnedByYou', `You already own the bucket "${name}"`);
      throw fail('BucketAlreadyExists', `The bucket name "${name}" is taken; bucket names are one namespace for every user`);
    }
    return this.require(name);
  }

  /** The bucket of that name; undefined for none, and for what cannot be a bucket's name (never looked up). */
  async find(name: string): Promise<Bucket | undefined> {
    if (!isStorageTypeOrBucketName(name)) return undefined;
    const record = await this.store.find(name);
    return record && bucketOf(record);
  }

  async require(name: string): Promise<Bucket> {
    const bucket = await this.find(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  /** The buckets `user` owns or was granted something in, in name order. */
  async list(user: string, page: { after: string | undefined; limit: number }): Promise<BucketPage> {
    const records = await this.store.list({ user, after: page.after, limit: page.limit + 1 });
    const buckets = records.slice(0, page.limit).map(bucketOf);
    return { buckets, next: records.length > page.limit ? buckets.at(-1)?.name : undefined };
  }

  /** Removes an empty bucket: its owner only; BucketNotEmpty while it holds an object. */
  async remove(principal: Principal, name: string): Promise<void> {
    const bucket = await this.require(name);
    assertAllowed(principal, 'bucket:delete', bucket);
    const now = this.options.clock();
    const outcome = await this.store.remove({ name, owner: bucket.owner, now, collectAfter: now + LEFTOVER_GRACE_MS });
    if (outcome === 'not-empty') throw fail('BucketNotEmpty', `The bucket "${name}" holds objects; delete them first`);
    if (outcome === 'missing') throw noSuchBucket(name);
  }

  /**
   * Changes a bucket's settings or quota, as `action` (bucket:write-acl for grants, bucket:configure
   * for the rest) by `principal`, judged against the bucket as the transaction holds it.
   */
  async change(principal: Principal, name: string, action: Action, update: (bucket: Bucket) => BucketUpdate): Promise<Bucket> {
    // What cannot be a bucket's name is never looked up (as by find).
    if (!isStorageTypeOrBucketName(name)) throw noSuchBucket(name);
    const changed = await this.store.update(name, (record) => {
      const bucket = bucketOf(record);
      assertAllowed(principal, action, bucket);
      const next = update(bucket);
      const settings = next.settings ?? bucket.settings;
      assertPublicAllowed(settings, bucket.settings);
      return {
        quotaBytes: next.quotaBytes === undefined ? bucket.quotaBytes : next.quotaBytes,
        settings: encodeSettings(settings),
        grantees: granteesOf(settings),
      };
    });
    if (!changed) throw noSuchBucket(name);
    return bucketOf(changed);
  }
}

export function noSuchBucket(name: string) {
  return fail('NoSuchBucket', `No bucket named "${name}" exists`);
}

/** Throws the refusal the fronts answer: AccessDenied, or for an anonymous caller a request for credentials. */
export function assertAllowed(principal: Principal, action: Action, bucket: Bucket, key = '', objectGrants?: readonly Grant[]): void {
  const decision = authorize({ principal, action, bucket: bucket.name, owner: bucket.owner, settings: bucket.settings, key, objectGrants });
  if (decision.allowed) return;
  throw denial(principal, decision.denial);
}

const DENIAL_MESSAGES: Record<Denial, string> = {
  explicit: 'A bucket policy statement denies this',
  scope: "This API key's scope does not cover this (it is read-only, or limited to one bucket or one prefix)",
  implicit: 'Nothing grants you this',
};

export function denial(principal: Principal, kind: Denial) {
  if (principal.kind === 'anonymous' && kind === 'implicit')
    return fail('MissingToken', 'This bucket or object is not public: send credentials', { 'www-authenticate': 'Bearer' });
  return fail('AccessDenied', DENIAL_MESSAGES[kind]);
}

/**
 * The public access block's refusals of a change: with BlockPublicAcls, no new public grant; with
 * BlockPublicPolicy, no policy that allows everyone. The block as it will be after the change counts
 * (so turning it on and sharing publicly in one change is refused too).
 */
function assertPublicAllowed(next: BucketSettings, previous: BucketSettings): void {
  const block = next.publicAccessBlock;
  if (!block) return;
  const hadPublic = (grant: Grant) => previous.grants.some((old) => JSON.stringify(old) === JSON.stringify(grant));
  if (block.blockPublicAcls && next.grants.some((grant) => isPublicGrantee(grant.grantee) && !hadPublic(grant)))
    throw fail('AccessDenied', 'The bucket blocks public ACLs (PublicAccessBlock BlockPublicAcls)');
  if (block.blockPublicPolicy && isPublicPolicy(next.policy) && next.policy !== previous.policy)
    throw fail('AccessDenied', 'The bucket blocks public policies (PublicAccessBlock BlockPublicPolicy)');
}
