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
}
