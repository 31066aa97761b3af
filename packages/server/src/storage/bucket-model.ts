/**
 * The domain's model of buckets and access: who may do what to which bucket, prefix or object.
 * Both fronts translate their dialect into these values (S3 ACLs, x-amz-grant-* headers and bucket
 * policies; storage API v1's JSON), and one function, `authorize` (authorizer.ts), decides.
 */

/** S3's permissions, with one meaning on both APIs (docs/concepts.md). */
export type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
export const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

/** Whom a grant names: one user (by id), every authenticated user, or everyone (anonymous too). */
export type Grantee = { readonly kind: 'user'; readonly id: string } | { readonly kind: 'authenticated' } | { readonly kind: 'everyone' };

/** A permission on the bucket (`prefix` ''), on every key under a prefix, or on one object (an object ACL). */
export interface Grant {
  readonly grantee: Grantee;
  readonly permission: Permission;
  /** Keys the grant covers: those starting with it ('' for the whole bucket). */
  readonly prefix: string;
}

/** The actions a bucket policy may name (the documented subset of S3's). */
export type PolicyAction = 's3:GetObject' | 's3:PutObject' | 's3:DeleteObject' | 's3:ListBucket' | 's3:*';
export const POLICY_ACTIONS: readonly PolicyAction[] = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:*'];

/** One statement of a bucket policy. */
export interface PolicyStatement {
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  /** User ids, or '*' for everyone (anonymous included). */
  readonly principals: '*' | readonly string[];
  readonly actions: readonly PolicyAction[];
  /**
   * What the statement covers: the bucket itself (`bucket`, for s3:ListBucket), objects whose keys
   * start with a prefix (`arn:aws:s3:::name/prefix*`; '' for every object), and/or one object
   * (`arn:aws:s3:::name/key`).
   */
  readonly resources: readonly (
    | { readonly kind: 'bucket' }
    | { readonly kind: 'objects'; readonly prefix: string }
    | { readonly kind: 'object'; readonly key: string }
  )[];
}

export interface BucketPolicy {
  /** The document as the owner sent it, returned as it is by GetBucketPolicy. */
  readonly text: string;
  readonly statements: readonly PolicyStatement[];
}

/** S3's PublicAccessBlock: what an owner turned on to keep a bucket from being public. */
export interface PublicAccessBlock {
  /** Refuse requests that would set a public ACL (a grant to everyone or all authenticated users). */
  readonly blockPublicAcls: boolean;
  /** Public ACL grants (stored or not) give nothing. */
  readonly ignorePublicAcls: boolean;
  /** Refuse a bucket policy that allows '*'. */
  readonly blockPublicPolicy: boolean;
  /** Policy statements allowing '*' give nothing to anyone but the owner. */
  readonly restrictPublicBuckets: boolean;
}

/** A default expiry for keys written under a prefix (S3 lifecycle `Expiration` with `Days`). */
export interface LifecycleRule {
  readonly id: string;
  readonly prefix: string;
  readonly enabled: boolean;
  /** Days after which objects written under the prefix expire; null when the rule has no expiration (only `noncurrentDays`). */
  readonly days: number | null;
  /**
   * S3's NoncurrentVersionExpiration. For the whole bucket (prefix ''): the bucket's retention
   * window, which the rule sets (`retentionDays`) while the bucket is versioned. For a prefix: how
   * long values replaced or deleted at its keys are kept instead of the window, while the bucket
   * keeps any (the shortest of the rules a key falls under).
   */
  readonly noncurrentDays?: number | undefined;
  /**
   * S3's NewerNoncurrentVersions, with `noncurrentDays`: the key's newest noncurrent versions
   * kept past those days, this many of them (each rule weighed on its own by the sweeper: kept-newer.ts).
   */
  readonly noncurrentNewer?: number | undefined;
  /**
   * S3's AbortIncompleteMultipartUpload: days after its creation that a multipart upload under the
   * prefix that is neither completed nor aborted is removed with its parts (at most the server's 7).
   */
  readonly abortIncompleteDays?: number | undefined;
  /**
   * S3's Expiration ExpiredObjectDeleteMarker, as given (instead of `days`): when true, a delete
   * marker that an explicit removal of versions leaves alone at a key under the prefix goes too.
   */
  readonly expiredMarkers?: boolean | undefined;
}

/** A named bucket's settings: what the owner chose, beside its name, owner and creation time. */
export interface BucketSettings {
  readonly grants: readonly Grant[];
  readonly policy: BucketPolicy | null;
  readonly publicAccessBlock: PublicAccessBlock | null;
  readonly lifecycle: readonly LifecycleRule[];
  /**
   * Days overwritten, deleted and moved objects are kept as noncurrent versions (0: none); absent
   * or null: the server default (`STOWAGE_RETENTION`).
   */
  readonly retentionDays?: number | null | undefined;
}

export const EMPTY_BUCKET_SETTINGS: BucketSettings = { grants: [], policy: null, publicAccessBlock: null, lifecycle: [] };

export interface Bucket {
  readonly name: string;
  readonly owner: string;
  readonly createdAt: Date;
  readonly quotaBytes: number | null;
  readonly settings: BucketSettings;
  readonly bytes: number;
  readonly objects: number;
}

/**
 * What an API key made for less than its user's own rights may do (docs/concepts.md): only read,
 * only in one bucket (a built-in one or a named one), only under one prefix; each narrows, and
 * nothing a scoped key holds widens what its user may do.
 */
export interface KeyScope {
  readonly readOnly: boolean;
  /** The one bucket (or storage type) the key may reach. */
  readonly bucket?: string | undefined;
  /** The one prefix (a folder: ends in /) under which the key may reach keys. */
  readonly prefix?: string | undefined;
}

/**
 * Who asks: a user (by token, API key or a signed URL's signer), perhaps through a scoped API key
 * (`scope`), or no one (an anonymous request).
 */
export type Principal =
  | { readonly kind: 'user'; readonly id: string; readonly scope?: KeyScope | undefined }
  | { readonly kind: 'anonymous' };
export const ANONYMOUS: Principal = { kind: 'anonymous' };

/**
 * What a request does, in the domain's terms. Object actions name a key; `list` a prefix;
 * the rest the bucket.
 */
export type Action =
  | 'object:read' // GET/HEAD an object, a signed download URL, the source of a copy
  | 'object:write' // PUT, the destination of a copy or move, uploads
  | 'object:delete'
  | 'object:read-acl'
  | 'object:write-acl'
  | 'bucket:list' // list keys under a prefix, usage of a prefix
  | 'bucket:read-acl' // read grants, policy, public access block, lifecycle, CORS
  | 'bucket:write-acl' // change grants
  | 'bucket:configure' // policy, public access block, lifecycle, CORS, quota: the owner only
  | 'bucket:delete'; // the owner only
