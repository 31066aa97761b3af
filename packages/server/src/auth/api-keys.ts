import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { fail } from '../errors.js';
import type { KeyScope } from '../storage/bucket-model.js';
import type { SecretSealer } from './secret-sealer.js';
import { assertUserId, isPlainText } from './user-id.js';

/**
 * A stored API key: the hash of its secret (for `/auth/token`), and the secret sealed under the
 * server secret (for S3 signatures; null for keys made before the S3 API, which cannot sign).
 * `scope` is its KeyScope as JSON (null: the user's own rights); a revoked key is kept, with the
 * time, so that its list says what happened to it.
 */
export interface ApiKeyRecord {
  clientId: string;
  tenant: string;
  secretHash: string;
  sealedSecret: string | null;
  createdAt: number;
  name: string | null;
  scope: string | null;
  revokedAt: number | null;
}

/** Where API key records live (the index database: SQLite or PostgreSQL). */
export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  find(clientId: string): Promise<ApiKeyRecord | undefined>;
  /** Every key of `tenant`, revoked ones too, oldest first. */
  listFor(tenant: string): Promise<ApiKeyRecord[]>;
  /** Marks `tenant`'s key `clientId` revoked at `now` (once); false when the tenant has no such key. */
  revoke(tenant: string, clientId: string, now: number): Promise<boolean>;
}

/** What a key's owner sees of it: never its secret. */
export interface ApiKeyInfo {
  readonly clientId: string;
  readonly name: string | null;
  readonly scope: KeyScope | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface NewApiKey {
  readonly name?: string | undefined;
  readonly scope?: KeyScope | undefined;
}

// Secrets are 256 random bits, so one fast hash is as strong as a slow KDF here.
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Creates a key for `tenant`, perhaps scoped; the secret is shown once. The server keeps its
 * hash, and the secret sealed by `sealer` so that it can check S3 signatures made with it.
 */
export async function createApiKey(
  store: ApiKeyStore,
  tenant: string,
  sealer: SecretSealer,
  now = Date.now(),
  options: NewApiKey = {},
): Promise<{ clientId: string; secret: string }> {
  assertUserId(tenant);
  const clientId = `stw_${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  await store.insert({
    clientId,
    tenant,
    secretHash: hashSecret(secret),
    sealedSecret: sealer.seal(clientId, secret),
    createdAt: now,
    name: options.name ?? null,
    scope: options.scope ? JSON.stringify(options.scope) : null,
    revokedAt: null,
  });
  return { clientId, secret };
}

/** A key as its owner lists it. */
export function apiKeyInfo(record: ApiKeyRecord): ApiKeyInfo {
  return {
    clientId: record.clientId,
    name: record.name,
    scope: scopeOf(record) ?? null,
    createdAt: Number(record.createdAt),
    revokedAt: record.revokedAt === null ? null : Number(record.revokedAt),
  };
}

/** The scope a key was made with, or undefined for a key of its user's own rights. */
export function scopeOf(record: Pick<ApiKeyRecord, 'scope'>): KeyScope | undefined {
  if (record.scope === null) return undefined;
  // Written by createApiKey from a checked KeyScope: anything else is a damaged row, refused.
  const parsed = parseKeyScope(JSON.parse(record.scope));
  if (!parsed) throw new Error('an API key has a scope that cannot be read');
  return parsed;
}

/**
 * A KeyScope from what a request (or a token's claim) says, or undefined when it says nothing
 * narrower than the user's own rights; InvalidArgument for anything else.
 */
export function parseKeyScope(value: unknown): KeyScope | undefined {
  if (value === undefined || value === null) return undefined;
  const invalid = (why: string) => fail('InvalidArgument', `A key's scope ${why}`);
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid('is {readOnly, bucket, prefix}');
  const { readOnly, bucket, prefix, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid(`has no ${Object.keys(rest)[0]}: it is {readOnly, bucket, prefix}`);
  if (readOnly !== undefined && typeof readOnly !== 'boolean') throw invalid('says readOnly with true or false');
  if (bucket !== undefined && (typeof bucket !== 'string' || !isPlainText(bucket, 63) || bucket === ''))
    throw invalid('names its bucket with a bucket name or a storage type');
  if (prefix !== undefined && (typeof prefix !== 'string' || !isPlainText(prefix, 1024) || !prefix.endsWith('/')))
    throw invalid('names its prefix as a folder: text ending in /');
  if (!readOnly && bucket === undefined && prefix === undefined) return undefined;
  return {
    readOnly: readOnly === true,
    ...(bucket !== undefined && { bucket: bucket as string }),
    ...(prefix !== undefined && { prefix: prefix as string }),
  };
}

/** The longest client id looked up: ours are 28 characters. */
const MAX_CLIENT_ID_BYTES = 128;

/**
 * The key of a client id from a request (a JSON body, an S3 credential), or undefined. An id that
 * is not plain text is no key's, and is never sent to the index: PostgreSQL's text refuses NUL.
 */
export async function findApiKey(store: ApiKeyStore, clientId: string): Promise<ApiKeyRecord | undefined> {
  const record = isPlainText(clientId, MAX_CLIENT_ID_BYTES) ? await store.find(clientId) : undefined;
  // A revoked key is no key: it signs nothing and gets no token.
  return record?.revokedAt === null ? record : undefined;
}

/** The key of a valid client_id + secret pair, or undefined (a revoked key is no longer valid). */
export async function verifyApiKey(store: ApiKeyStore, clientId: string, secret: string): Promise<ApiKeyRecord | undefined> {
  const record = await findApiKey(store, clientId);
  // Hash even when the id is unknown, so timing does not tell which ids exist.
  const given = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(record?.secretHash ?? hashSecret(''), 'hex');
  return record && timingSafeEqual(given, expected) ? record : undefined;
}
