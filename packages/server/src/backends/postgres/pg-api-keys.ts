import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-keys.js';
import { type PgDb, statement } from './pg-db.js';

const INSERT = statement(
  'api_key_insert',
  'INSERT INTO api_keys (client_id, tenant, secret_hash, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5)',
);
const FIND = statement(
  'api_key_find',
  `SELECT client_id AS "clientId", tenant, secret_hash AS "secretHash", secret_sealed AS "sealedSecret", created_at AS "createdAt"
   FROM api_keys WHERE client_id = $1`,
);

/** API keys in the PostgreSQL index, shared by every server. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: PgDb) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    await this.db.run(INSERT, [record.clientId, record.tenant, record.secretHash, record.sealedSecret, record.createdAt]);
  }

  async find(clientId: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await this.db.run<ApiKeyRecord>(FIND, [clientId]);
    return rows[0];
  }
}
