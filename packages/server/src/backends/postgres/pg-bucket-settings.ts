import type { BucketName, BucketSettingsStore } from '../bucket-settings.js';
import { type PgDb, statement } from './pg-db.js';

const FIND = statement('bucket_cors_find', 'SELECT cors FROM bucket_settings WHERE tenant = $1 AND type = $2');
const SET = statement(
  'bucket_cors_set',
  `INSERT INTO bucket_settings (tenant, type, cors) VALUES ($1, $2, $3)
   ON CONFLICT (tenant, type) DO UPDATE SET cors = excluded.cors`,
);

/** Bucket settings in the PostgreSQL index, shared by every server. */
export class PgBucketSettings implements BucketSettingsStore {
  constructor(private readonly db: PgDb) {}

  async findCors(bucket: BucketName): Promise<string | undefined> {
    const { rows } = await this.db.run<{ cors: string | null }>(FIND, [bucket.tenant, bucket.type]);
    return rows[0]?.cors ?? undefined;
  }

  async setCors(bucket: BucketName, cors: string | null): Promise<void> {
    await this.db.run(SET, [bucket.tenant, bucket.type, cors]);
  }
}
