import type { Statement } from 'better-sqlite3';
import type { BucketName, BucketSettingsStore } from '../bucket-settings.js';
import type { IndexDb } from './index-db.js';

/** Bucket settings in the embedded index's `bucket_settings` table. */
export class SqliteBucketSettings implements BucketSettingsStore {
  private readonly find: Statement<[string, string]>;
  private readonly set: Statement<[string, string, string | null]>;

  constructor(index: IndexDb) {
    this.find = index.db.prepare<[string, string]>('SELECT cors FROM bucket_settings WHERE tenant = ? AND type = ?').pluck();
    this.set = index.db.prepare<[string, string, string | null]>(
      `INSERT INTO bucket_settings (tenant, type, cors) VALUES (?, ?, ?)
       ON CONFLICT (tenant, type) DO UPDATE SET cors = excluded.cors`,
    );
  }

  async findCors(bucket: BucketName): Promise<string | undefined> {
    return (this.find.get(bucket.tenant, bucket.type) as string | null | undefined) ?? undefined;
  }

  async setCors(bucket: BucketName, cors: string | null): Promise<void> {
    this.set.run(bucket.tenant, bucket.type, cors);
  }
}
