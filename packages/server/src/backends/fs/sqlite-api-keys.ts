import type { ApiKeyRecord, ApiKeyStore } from '../../auth/api-keys.js';
import type { IndexDb } from './index-db.js';

/** API keys in the fs backend's index database. */
export class SqliteApiKeyStore implements ApiKeyStore {
  constructor(private readonly index: IndexDb) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    this.index.statements.insertApiKey.run(record);
  }

  async find(clientId: string): Promise<ApiKeyRecord | undefined> {
    return this.index.statements.findApiKey.get(clientId) as ApiKeyRecord | undefined;
  }

  async listFor(tenant: string): Promise<ApiKeyRecord[]> {
    return this.index.statements.listApiKeys.all(tenant) as ApiKeyRecord[];
  }

  async revoke(tenant: string, clientId: string, now: number): Promise<boolean> {
    return this.index.statements.revokeApiKey.get(now, tenant, clientId) !== undefined;
  }
}
