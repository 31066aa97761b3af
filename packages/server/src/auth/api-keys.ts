import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A stored API key: the secret itself is never kept, only its hash. */
export interface ApiKeyRecord {
  clientId: string;
  tenant: string;
  secretHash: string;
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

/** Creates a key for `tenant`; the secret is returned once and cannot be recovered later. */
export async function createApiKey(store: ApiKeyStore, tenant: string, now = Date.now()): Promise<{ clientId: string; secret: string }> {
  const clientId = `stw_${randomBytes(12).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  await store.insert({ clientId, tenant, secretHash: hashSecret(secret), createdAt: now });
  return { clientId, secret };
}

/** The tenant of a valid client_id + secret pair, or undefined. */
export async function verifyApiKey(store: ApiKeyStore, clientId: string, secret: string): Promise<string | undefined> {
  const record = await store.find(clientId);
  // Hash even when the id is unknown, so timing does not tell which ids exist.
  const given = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(record?.secretHash ?? hashSecret(''), 'hex');
  return record && timingSafeEqual(given, expected) ? record.tenant : undefined;
}
