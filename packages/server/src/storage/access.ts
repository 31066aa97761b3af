import { isStorageType } from 'stowage-client/protocol';
import type { ObjectInfo } from '../backends/backend.js';
import { fail } from '../errors.js';
import { authorize } from './authorizer.js';
import { type Action, type Bucket, EMPTY_BUCKET_SETTINGS, type Principal } from './bucket-model.js';
import { type BucketService, denial, noSuchBucket } from './bucket-service.js';
import { objectGrantsAt } from './object-attributes.js';
import { type ObjectRef, parseStorageType, validateKey } from './object-ref.js';

/** Where a bucket's objects are: the tenant holding them and the type (or bucket name) they are kept under. */
export interface Location {
  readonly tenant: string;
  readonly type: string;
  /** The named bucket; undefined for a user's built-in bucket (data, tmp, result). */
  readonly bucket: Bucket | undefined;
}

/** A key to read, and the check of the object's own ACL when the bucket alone did not allow the read. */
export interface ReadAccess {
  readonly ref: ObjectRef;
  /**
   * Throws unless the object read allows it (its ACL); undefined when the bucket already allowed
   * it. Called with undefined when there is no object: the refusal, not NoSuchKey, so that whoever
   * may not read a bucket cannot learn which keys it holds.
   */
  readonly check: ((info: ObjectInfo | undefined) => void) | undefined;
}

/**
 * Turns what a front names (a bucket, a key) and who asks into where the objects are, or a
 * refusal. A user's built-in buckets (data, tmp, result) are theirs alone; a named bucket is
 * looked up, and the one decision (authorizer.ts) says whether the principal may do the action.
 * Both fronts ask it before every operation on objects.
 */
export class Access {
  constructor(private readonly buckets: BucketService) {}

  async locate(principal: Principal, name: string, action: Action, key = ''): Promise<Location> {
    return this.judged(principal, name, action, key, false);
  }

  /**
   * Where bucket `name` is, if the principal may do `action` to every key under `prefix` at once
   * (delete, copy or move of a prefix): a statement denying it for any key under the prefix refuses it.
   */
  async locateUnder(principal: Principal, name: string, action: Action, prefix: string): Promise<Location> {
    return this.judged(principal, name, action, prefix, true);
  }

  private async judged(principal: Principal, name: string, action: Action, key: string, under: boolean): Promise<Location> {
    const location = await this.unjudged(principal, name);
    const decision = decide(principal, location, action, key, under);
    if (!decision.allowed) throw denial(principal, decision.denial);
    return location;
  }

  /**
   * Where bucket `name` is, without deciding any action yet: for operations on many keys that
   * judge each key with `allows` (a grant of a prefix covers the keys under it only). A user's
   * built-in bucket is theirs; no one else has one to reach.
   */
  async unjudged(principal: Principal, name: string): Promise<Location> {
    if (isStorageType(name)) {
      if (principal.kind !== 'user') throw denial(principal, 'implicit');
      return { tenant: principal.id, type: name, bucket: undefined };
    }
    const bucket = await this.named(name);
    return { tenant: bucket.owner, type: name, bucket };
  }

  /** Whether the principal may do `action` at `key` of a bucket already located (no lookup). */
  allows(principal: Principal, location: Location, action: Action, key: string): boolean {
    return decide(principal, location, action, key, false).allowed;
  }

  /** The object at `key` of bucket `name`, if the principal may do `action` to it. */
  async ref(principal: Principal, name: string, key: string, action: Action): Promise<ObjectRef> {
    validateKey(key);
    const location = await this.locate(principal, name, action, key);
    return { tenant: location.tenant, type: location.type, key };
  }

  /**
   * A read of the object at `key`. When the bucket does not allow it but nothing denies it, the
   * object's own ACL may: the read goes ahead with a check of the object as it is read.
   */
  async readable(principal: Principal, name: string, key: string): Promise<ReadAccess> {
    validateKey(key);
    const location = await this.unjudged(principal, name);
    const ref = { tenant: location.tenant, type: name, key };
    const decision = decide(principal, location, 'object:read', key, false);
    if (decision.allowed) return { ref, check: undefined };
    const bucket = location.bucket;
    // Only where nothing granted it may the object's own ACL still allow the read.
    if (decision.denial !== 'implicit' || !bucket) throw denial(principal, decision.denial);
    const check = (info: ObjectInfo | undefined) => {
      const objectGrants = objectGrantsAt(info?.attributes, { bucket: name, owner: bucket.owner, key });
      if (objectGrants.length === 0) throw denial(principal, 'implicit');
      const byObject = authorize({
        principal,
        action: 'object:read',
        bucket: name,
        owner: bucket.owner,
        settings: bucket.settings,
        key,
        objectGrants,
      });
      if (!byObject.allowed) throw denial(principal, byObject.denial);
    };
    return { ref, check };
  }

  /** The named bucket, its name checked before any lookup (400 InvalidStorageType), else NoSuchBucket. */
  private async named(name: string): Promise<Bucket> {
    parseStorageType(name);
    const bucket = await this.buckets.find(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }
}

/** The one decision, for a named bucket or a user's built-in one (owned by its user, shared with no one). */
function decide(principal: Principal, location: Location, action: Action, key: string, under: boolean) {
  const { bucket } = location;
  return authorize({
    principal,
    action,
    bucket: location.type,
    owner: bucket?.owner ?? location.tenant,
    settings: bucket?.settings ?? EMPTY_BUCKET_SETTINGS,
    key,
    under,
  });
}

/**
 * The user, acting with their own rights: creating a bucket or managing API keys is beyond any
 * scoped key, whatever its scope (a key cannot make itself a wider one).
 */
export function requireOwnRights(principal: Principal, what: string): string {
  const user = requireUser(principal);
  if (principal.kind === 'user' && principal.scope)
    throw fail('AccessDenied', `${what} needs credentials with the user's own rights, not a scoped API key`);
  return user;
}

export function requireUser(principal: Principal): string {
  if (principal.kind !== 'user') throw fail('MissingToken', undefined, { 'www-authenticate': 'Bearer' });
  return principal.id;
}

/** Runs a read under a check (ReadAccess.check): a missing object is the check's refusal, not NoSuchKey. */
export async function checkedRead<T>(check: ReadAccess['check'], read: () => Promise<T>): Promise<T> {
  if (!check) return read();
  try {
    return await read();
  } catch (error) {
    if ((error as { code?: string }).code === 'NoSuchKey') check(undefined);
    throw error;
  }
}
