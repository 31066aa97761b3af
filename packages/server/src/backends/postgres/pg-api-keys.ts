import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-keys.js';
import { type PgDb, statement } from './pg-db.js';

const FIELDS = `client_id AS "clientId", tenant, secret_hash AS "secretHash", secret_sealed AS "sealedSecret",
  created_at AS "createdAt", name, scope, revoked_at AS "revokedAt"`;
const INSERT = statement(
  'api_key_insert',
  `INSERT INTO api_keys (client_id, tenant, secret_hash, secret_sealed, created_at, name, scope)
   VALUES ($1, $2, $3, $4, $5, $6, $7)`,
);
const FIND = statement('api_key_find', `SELECT ${FIELDS} FROM api_keys WHERE client_id = $1`);
const LIST = statement('api_key_list', `SELECT ${FIELDS} FROM api_keys WHERE tenant = $1 ORDER BY created_at, client_id`);
const REVOKE = statement(
  'api_key_revoke',
  'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant = $1 AND client_id = $2 RETURNING revoked_at',
);

/** API keys in the PostgreSQL index, shared by every server. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: PgDb) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.db.run(INSERT, [
      record.clientId,
      record.tenant,
      record.secretHash,
      record.sealedSecret,
      record.createdAt,
      record.name,
      record.scope,
    ]);
  }

  async find(clientId: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.run<ApiKeyRecord>(FIND, [clientId]);
    return rows[0];
  }

  async listFor(tenant: string): Promise<ApiKeyRecord[]> {
    return (await this.db.run<ApiKeyRecord>(LIST, [tenant])).rows;
  }

  async revoke(tenant: string, clientId: string, now: number): Promise<boolean> {
    return (await this.db.run(REVOKE, [tenant, clientId, now])).rows.length > 0;
  }
}
