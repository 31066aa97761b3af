import { json, jsonBody } from './buckets.js';
import { type ApiKeyInfo, type CreatedApiKey, KEYS_PATH } from './protocol.js';
import type { Transport } from './transport.js';

/** Options of `keys.create`: a name to know it by, and its scope (none: the user's own rights). */
export interface CreateApiKeyOptions {
  readonly name?: string;
  /** Reads only: get, list, read ACLs. */
  readonly readOnly?: boolean;
  /** One bucket (a named one, or `data`, `tmp`, `result`). */
  readonly bucket?: string;
  /** Keys and listings under one folder only (ends in `/`). */
  readonly prefix?: string;
  readonly signal?: AbortSignal;
}

/**
 * The caller's own API keys (`storage.keys`): list them, create one (perhaps scoped: read-only,
 * one bucket, one prefix), revoke one. A key is a `clientId` and a secret, for `Auth` (exchanged
 * for tokens) or as an S3 access key. Only credentials with the user's own rights manage keys: a
 * scoped key gets `ForbiddenError` (`AccessDenied`).
 *
 * @example
 * const key = await storage.keys.create({ name: 'dashboard', readOnly: true, prefix: 'reports/' });
 * const reader = new Storage({ auth: new Auth({ clientId: key.clientId, clientSecret: key.clientSecret }) });
 * await storage.keys.revoke(key.clientId);
 */
export class ApiKeys {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Every key of the caller, oldest first, revoked ones too (with `revokedAt`); never a secret. */
  async list(options: { signal?: AbortSignal } = {}): Promise<ApiKeyInfo[]> {
    const answer = await this.transport.send({ method: 'GET', url: KEYS_PATH, signal: options.signal }, json<{ keys: ApiKeyInfo[] }>);
    return answer.keys;
  }

  /**
   * A new key; its `clientSecret` is in this answer only. A POST: the retry policy does not repeat
   * it after a lost answer (a retry would make a second key).
   * @throws {BadRequestError} `InvalidArgument`: a scope that cannot be (a prefix not ending in `/`, a bad bucket name).
   */
  async create(options: CreateApiKeyOptions = {}): Promise<CreatedApiKey> {
    const { signal, ...fields } = options;
    return this.transport.send({ method: 'POST', url: KEYS_PATH, ...jsonBody(fields), signal }, json<CreatedApiKey>);
  }

  /**
   * Revokes a key of the caller: S3 signatures and new tokens with it are refused at once, tokens it
   * got before within 30 s. Revoking a revoked key again changes nothing.
   * @throws {NotFoundError} `NoSuchApiKey`: the caller has no key of that id.
   */
  async revoke(clientId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transport.send(
      { method: 'DELETE', url: `${KEYS_PATH}/${encodeURIComponent(clientId)}`, signal: options.signal },
      async () => undefined,
    );
  }
}
