import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SecretSealer } from './secret-sealer.js';
import { assertUserId, isPlainText } from './user-id.js';

/**
 * A stored API key: the hash of its secret (for `/auth/token`), and the secret sealed under the
 * server secret (for S3 signatures; null for keys made before the S3 API, which cannot sign).
 */
export interface ApiKeyRecord {
  clientId: string;
  tenant: string;
  secretHash: string;
  sealedSecret: string | null;
  createdAt: number;
}

/** Where API key records live (the index database for the fs backend). */
export interface ApiKeyStore {
  insert(record: ApiKeyRecord): Promise<void>;
  find(clientId: string): Promise<ApiKeyRecord | undefined>;
}

// Secrets are 256 random bits, so one fast hash is as strong as a slow KDF here.
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Creates a key for `tenant`; the secret is shown once. The server keeps its hash, and the secret
 * sealed by `sealer` so that it can check S3 signatures made with it.
 */
export async function createApiKey(
  store: ApiKeyStore,
  tenant: string,
  sealer: SecretSealer,
  now = Date.now(),
): Promise<{ clientId: string; secret: string }> {
  assertUserId(tenant);
  const clientId = `stw_${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  await store.insert({ clientId, tenant, secretHash: hashSecret(secret), sealedSecret: sealer.seal(clientId, secret), createdAt: now });
  return { clientId, secret };
}

/** The longest client id looked up: ours are 28 characters. */
const MAX_CLIENT_ID_BYTES = 128;

/**
 * The key of a client id from a request (a JSON body, an S3 credential), or undefined. An id that
 * is not plain text is no key's, and is never sent to the index: PostgreSQL's text refuses NUL.
 */
export async function findApiKey(store: ApiKeyStore, clientId: string): Promise<ApiKeyRecord | undefined> {
  return isPlainText(clientId, MAX_CLIENT_ID_BYTES) ? store.find(clientId) : undefined;
}

/** The tenant of a valid client_id + secret pair, or undefined. */
export async function verifyApiKey(store: ApiKeyStore, clientId: string, secret: string): Promise<string | undefined> {
  const record = await findApiKey(store, clientId);
  // Hash even when the id is unknown, so timing does not tell which ids exist.
  const given = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(record?.secretHash ?? hashSecret(''), 'hex');
  return record && timingSafeEqual(given, expected) ? record.tenant : undefined;
}
