// `stowage migrate` moves everything an embedded server holds (objects written through both APIs,
// with their metadata, expiry and S3 attributes; a named bucket, its grant and CORS; an API key; a
// quota) into PostgreSQL + S3 and back: a first pass while the source serves, killed after a few
// blobs and run again, then a final pass after the source stopped. A scale-out server started on
// the destination with the same secret answers every request as the source did (the old tokens and
// the API key still work), and the data directory migrated back is one fsck finds clean, where an
// S3 multipart upload begun before both migrations completes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import pg from 'pg';
import { freshNamespace, type StorageNamespace } from './helpers/deployment.js';
import { docBlock, REPOSITORY_ROOT } from './helpers/doc-blocks.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { testS3Client, testS3Settings } from './helpers/s3.js';
import { runCli, runProcess, type ServerProcess, startServerProcess } from './helpers/server-process.js';

const skip = process.env.STOWAGE_TEST_PG_URL && process.env.STOWAGE_TEST_S3_ENDPOINT ? false : 'needs PostgreSQL and S3 (scripts/test.sh)';
const MIB = 1024 * 1024;
/** An embedded server whatever deployment the suite runs on, with the secret of its data directory. */
const EMBEDDED = { STOWAGE_INDEX: 'sqlite', STOWAGE_BLOBS: 'files', STOWAGE_JWT_SECRET: '', NODE_NO_WARNINGS: '1' };

/** The v1 objects of the data set: [path, body, headers]. */
const V1_OBJECTS: Array<[string, Buffer, Record<string, string>]> = [
  ['/data/set/report.csv', Buffer.from('a,b\n1,2\n'), { 'content-type': 'text/csv', 'x-stowage-meta-author': 'Zoe' }],
  ['/data/set/big.bin', randomBytes(3 * MIB + 7), { 'content-type': 'application/octet-stream', 'cache-control': 'max-age=60' }],
  ['/data/set/dir%2FZo%C3%AB%20%C3%BC.txt', Buffer.from('unicode key'), { 'content-type': 'text/plain' }],
  ['/data/set/empty.txt', Buffer.alloc(0), { 'content-type': 'text/plain' }],
  ['/data/set/to-delete.txt', randomBytes(40_000), { 'content-type': 'application/octet-stream' }],
  ['/tmp/set/scratch.bin', randomBytes(20_000), { 'content-type': 'application/octet-stream' }],
  ['/result/set/out.json', Buffer.from('{"ok":true}'), { 'content-type': 'application/json' }],
];
const READ_PATHS = [
  '/data/get/report.csv',
  '/data/get/big.bin',
  '/data/get/dir%2FZo%C3%AB%20%C3%BC.txt',
  '/data/get/empty.txt',
  '/data/get/to-delete.txt',
  '/data/get/late.txt',
  '/tmp/get/scratch.bin',
  '/result/get/out.json',
  '/mig-bucket/get/shared%2Fs3.txt',
];

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('stowage migrate: a data directory into PostgreSQL + S3 and back', { skip }, () => {
  let source: ServerProcess | undefined;
  let target: ServerProcess | undefined;
  let back: ServerProcess | undefined;
  let destination: StorageNamespace;
  const dirs: string[] = [];
  let sourceDir: string;
  let tokens: { alice: string; bob: string };
  let apiKey: { client_id: string; client_secret: string };
  let before1: unknown;
  const unfinished = { uploadId: '', etag: '', first: randomBytes(5 * MIB) };

  const tempDir = async (name: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), `stowage-${name}-`));
    dirs.push(dir);
    return dir;
  };
  const stop = async (server: ServerProcess | undefined) => {
    if (!server || server.child.exitCode !== null) return;
    server.child.kill('SIGTERM');
    await server.exited;
  };
  const s3Of = (server: ServerProcess) =>
    new S3Client({
      endpoint: `${server.origin}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: apiKey.client_id, secretAccessKey: apiKey.client_secret },
      maxAttempts: 1,
    });
  const migrateArgs = () => [
    'migrate',
    '--to-index',
    destination.env.STOWAGE_INDEX as string,
    '--to-blobs',
    destination.env.STOWAGE_BLOBS as string,
  ];
  const migrateEnv = (extra: Record<string, string> = {}) => ({ ...destination.env, NODE_NO_WARNINGS: '1', ...extra });

  /** Everything a client sees of the data set, through v1 (as the Python client asks) and S3. */
  async function observe(server: ServerProcess): Promise<unknown> {
    const alice = pythonLikeClient(server.origin, tokens.alice);
    const bob = pythonLikeClient(server.origin, tokens.bob);
    const seen: Record<string, unknown> = {};
    for (const route of READ_PATHS) {
      const answer = await alice.get(route);
      const headers = Object.fromEntries(
        Object.entries(answer.headers).filter(
          ([name]) =>
            (name.startsWith('x-stowage-') && name !== 'x-stowage-ttl') ||
            ['etag', 'last-modified', 'content-type', 'content-length', 'cache-control', 'content-disposition'].includes(name),
        ),
      );
      seen[`v1 ${route}`] = { status: answer.status, sha256: answer.status === 200 ? sha256(answer.body) : undefined, headers };
    }
    const shared = await bob.get('/mig-bucket/get/shared%2Fs3.txt');
    seen['bob reads the shared prefix'] = { status: shared.status, sha256: sha256(shared.body) };
    seen['bob may not read outside it'] = (await bob.get('/mig-bucket/get/private.txt')).status;
    seen['v1 list'] = (await alice.get('/data/list?prefix=')).json();
    seen['v1 versions'] = (await alice.get('/data/versions?prefix=')).json();
    const s3 = s3Of(server);
    try {
      const head = async (Bucket: string, Key: string) => {
        const answer = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
        const { $metadata: _metadata, ...rest } = answer;
        return rest;
      };
      seen['s3 multipart'] = await head('data', 'mp/object.bin');
      seen['s3 bucket object'] = await head('mig-bucket', 'shared/s3.txt');
      seen['s3 cors'] = (await s3.send(new GetBucketCorsCommand({ Bucket: 'mig-bucket' }))).CORSRules;
      seen['s3 uploads in progress'] = ((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data' }))).Uploads ?? []).map((u) => [
        u.Key,
        u.UploadId,
      ]);
      seen['s3 list'] = ((await s3.send(new ListObjectsV2Command({ Bucket: 'data' }))).Contents ?? []).map((o) => [o.Key, o.ETag, o.Size]);
    } finally {
      s3.destroy();
    }
    return seen;
  }

  before(async () => {
    destination = await freshNamespace('postgres-s3');
    sourceDir = await tempDir('mig-source');
    // Retention on: deletes and overwrites leave versions, which move too (the final pass files
    // the source's deletes kept in place into its versions first).
    source = await startServerProcess(sourceDir, { ...EMBEDDED, STOWAGE_RETENTION: '7d' });
    const token = async (user: string) => {
      const issued = await runCli(['token', '--user', user, '--data-dir', sourceDir], EMBEDDED);
      assert.equal(issued.code, 0, issued.stderr);
      return issued.stdout.trim();
    };
    tokens = { alice: await token('alice'), bob: await token('bob') };
    const alice = pythonLikeClient(source.origin, tokens.alice);
    for (const [route, body, headers] of V1_OBJECTS) {
      const put = await alice.put(route, body, headers);
      assert.equal(put.status, 200, put.text);
    }
    // A resumable upload left half done: sessions in progress are not migrated, and the run says so.
    const resumable = new URL((await alice.get('/data/new_resumable_url/resumable.bin')).text);
    const chunk = await rawRequest(source.origin, 'PUT', resumable.pathname + resumable.search, {
      headers: { 'content-range': 'bytes 0-262143/*' },
      body: randomBytes(256 * 1024),
    });
    assert.equal(chunk.status, 308, chunk.text);
    const cli = (args: string[]) =>
      runProcess(process.execPath, [path.join(REPOSITORY_ROOT, 'packages/cli/bin/stowage.js'), ...args], {
        env: {
          STOWAGE_URL: (source as ServerProcess).url,
          STOWAGE_TOKEN: tokens.alice,
          STOWAGE_TOKEN_INFO_PATH: '/nonexistent/token_info.json',
        },
      });
    for (const args of [
      ['bucket', 'create', 'mig-bucket', '--quota', '1GiB'],
      ['bucket', 'share', 'mig-bucket', '--user', 'bob', '--prefix', 'shared/'],
    ]) {
      const done = await cli(args);
      assert.equal(done.code, 0, done.stderr);
    }
    const quota = await runCli(['quota', 'set', '--user', 'alice', '--bytes', '5GiB', '--data-dir', sourceDir], EMBEDDED);
    assert.equal(quota.code, 0, quota.stderr);
    const key = await runCli(['keys', 'create', '--user', 'alice', '--json', '--data-dir', sourceDir], EMBEDDED);
    assert.equal(key.code, 0, key.stderr);
    apiKey = JSON.parse(key.stdout);
    const s3 = s3Of(source);
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'mig-bucket',
          Key: 'shared/s3.txt',
          Body: 'through S3',
          Metadata: { origin: 's3' },
          ContentLanguage: 'en',
        }),
      );
      await s3.send(new PutObjectCommand({ Bucket: 'mig-bucket', Key: 'private.txt', Body: 'alice only' }));
      await s3.send(
        new PutBucketCorsCommand({
          Bucket: 'mig-bucket',
          CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['https://app.example.com'], MaxAgeSeconds: 600 }] },
        }),
      );
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/object.bin', ChecksumAlgorithm: 'CRC32' }));
      const parts = [randomBytes(5 * MIB), randomBytes(MIB)];
      const sent = [];
      for (const [i, Body] of parts.entries()) {
        const part = await s3.send(
          new UploadPartCommand({
            Bucket: 'data',
            Key: 'mp/object.bin',
            UploadId: created.UploadId,
            PartNumber: i + 1,
            Body,
            ChecksumAlgorithm: 'CRC32',
          }),
        );
        sent.push({ PartNumber: i + 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/object.bin',
          UploadId: created.UploadId,
          MultipartUpload: { Parts: sent },
        }),
      );
      // A multipart upload left in progress: it moves, and is completed on the way back.
      const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/unfinished.bin' }));
      unfinished.uploadId = open.UploadId as string;
      const part = await s3.send(
        new UploadPartCommand({ Bucket: 'data', Key: 'mp/unfinished.bin', UploadId: open.UploadId, PartNumber: 1, Body: unfinished.first }),
      );
      unfinished.etag = part.ETag as string;
    } finally {
      s3.destroy();
    }
  });

  after(async () => {
    for (const server of [source, target, back]) await stop(server);
    await destination?.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** The destination's object rows that name a blob, and whether the bucket holds each blob with the row's size. */
  async function destinationBlobs(): Promise<{ rows: number; missing: string[]; stored: number }> {
    const client = new pg.Client({ connectionString: destination.env.STOWAGE_INDEX });
    await client.connect();
    const settings = testS3Settings() as NonNullable<ReturnType<typeof testS3Settings>>;
    const s3 = testS3Client(settings);
    try {
      const schema = destination.env.STOWAGE_INDEX_SCHEMA as string;
      const exists = await client.query('SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2', [schema, 'objects']);
      const { rows } =
        exists.rowCount === 0
          ? { rows: [] as Array<{ blob_id: string; size: string }> }
          : // The blobs of the store rows name: a composite value's (mp/object.bin) are its manifest's parts.
            await client.query(
              `SELECT blob_id, size FROM "${schema}".objects WHERE blob_id IS NOT NULL AND blob_id NOT LIKE 'm-%'
               UNION ALL SELECT blob_id, size FROM "${schema}".manifest_parts WHERE blob_id IS NOT NULL`,
            );
      const prefix = `${(destination.env.STOWAGE_BLOBS as string).replace(/^s3:\/\/[^/]+\//, '')}/blobs/`;
      const missing: string[] = [];
      for (const row of rows) {
        const head = await s3
          .send(new HeadObjectCommand({ Bucket: settings.bucket, Key: `${prefix}${row.blob_id}` }))
          .catch(() => undefined);
        if (head?.ContentLength !== Number(row.size)) missing.push(row.blob_id);
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: settings.bucket, Prefix: prefix }));
      return { rows: rows.length, missing, stored: listed.KeyCount ?? 0 };
    } finally {
      s3.destroy();
      await client.end();
    }
  }

  test('a first pass while the source serves, killed after two blobs, finishes when run again', async () => {
    const killed = await runCli([...migrateArgs(), '--data-dir', sourceDir], migrateEnv({ STOWAGE_FAILPOINTS: 'migrate.after-blob@2' }));
    assert.equal(killed.code, null, `the failpoint killed it: ${killed.stdout}${killed.stderr}`);
    // Blobs of the batch first, then its rows: the destination has blobs no row names yet, and no row without its blob.
    const halfway = await destinationBlobs();
    assert.deepEqual(halfway.missing, []);
    assert.ok(halfway.stored >= 2, `${halfway.stored} blobs copied before the kill`);
    // The second run goes on while the source keeps taking writes (overwrites of blobs included).
    const server = source as ServerProcess;
    const alice = pythonLikeClient(server.origin, tokens.alice);
    let writing = true;
    const churn = (async () => {
      for (let i = 0; writing || i < 10; i++) {
        const put = await alice.put(`/data/set/churn%2F${i % 5}`, randomBytes(20_000 + i));
        assert.equal(put.status, 200, put.text);
      }
    })();
    const again = await runCli([...migrateArgs(), '--data-dir', sourceDir], migrateEnv());
    writing = false;
    await churn;
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /already there/);
    assert.match(again.stdout, /^verified: \d+ objects, .* every sha256 matches$/m);
    assert.match(again.stdout, /run again with --final/);
    assert.deepEqual((await destinationBlobs()).missing, []);
  });

  test('the final pass catches up with what changed since, after the source stopped', async () => {
    const server = source as ServerProcess;
    const alice = pythonLikeClient(server.origin, tokens.alice);
    assert.equal((await alice.put('/data/set/late.txt', randomBytes(30_000))).status, 200);
    assert.equal((await alice.put('/data/set/report.csv', Buffer.from('a,b\n3,4\n'), { 'content-type': 'text/csv' })).status, 200);
    assert.equal((await alice.delete('/data/to-delete.txt')).status, 204);
    before1 = await observe(server);
    await stop(server);
    const final = await runCli([...migrateArgs(), '--data-dir', sourceDir, '--final'], migrateEnv());
    assert.equal(final.code, 0, final.stdout + final.stderr);
    assert.match(final.stdout, /^objects: \d+ written, \d+ unchanged, 1 removed$/m);
    assert.match(final.stdout, /^verified: \d+ objects/m);
    assert.match(final.stdout, /1 resumable uploads in progress at the source were not migrated/);
    assert.match(final.stdout, /STOWAGE_JWT_SECRET="\$\(cat .*secret\.key\)"/);
  });

  test('a scale-out server on the destination, with the same secret, answers as the source did', async () => {
    const secret = (await readFile(path.join(sourceDir, 'secret.key'), 'utf8')).trim();
    target = await startServerProcess(await tempDir('mig-target'), { ...destination.env, STOWAGE_JWT_SECRET: secret });
    assert.deepEqual(await observe(target), before1);
    const quota = await runCli(['quota', 'show', '--user', 'alice', '--json'], { ...destination.env, STOWAGE_JWT_SECRET: secret });
    const report = JSON.parse(quota.stdout);
    assert.equal(report.quotaBytes, 5 * 1024 ** 3);
    assert.equal(report.quotaSource, 'tenant');
    const bucket = await rawRequest(target.origin, 'GET', '/storage/v1/buckets/mig-bucket', {
      headers: { authorization: `Bearer ${tokens.alice}` },
    });
    assert.equal(bucket.status, 200, bucket.text);
  });

  test('migrated back into a data directory: fsck finds it clean, and an embedded server answers the same', async () => {
    const secret = (await readFile(path.join(sourceDir, 'secret.key'), 'utf8')).trim();
    const backDir = await tempDir('mig-back');
    const migrated = await runCli(
      [
        'migrate',
        '--from-index',
        destination.env.STOWAGE_INDEX as string,
        '--from-blobs',
        destination.env.STOWAGE_BLOBS as string,
        '--data-dir',
        backDir,
        '--final',
      ],
      migrateEnv({ STOWAGE_JWT_SECRET: secret }),
    );
    assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
    assert.match(migrated.stdout, /STOWAGE_JWT_SECRET is now the data directory's secret/);
    const fsck = await runCli(['fsck', '--data-dir', backDir], EMBEDDED);
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    assert.match(fsck.stdout, /^clean$/m);
    back = await startServerProcess(backDir, EMBEDDED);
    assert.deepEqual(await observe(back), before1);
    const s3 = s3Of(back);
    try {
      const last = randomBytes(MIB);
      const part = await s3.send(
        new UploadPartCommand({ Bucket: 'data', Key: 'mp/unfinished.bin', UploadId: unfinished.uploadId, PartNumber: 2, Body: last }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/unfinished.bin',
          UploadId: unfinished.uploadId,
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: unfinished.etag },
              { PartNumber: 2, ETag: part.ETag },
            ],
          },
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'mp/unfinished.bin' }));
      const bytes = Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array()));
      assert.equal(
        sha256(bytes),
        sha256(Buffer.concat([unfinished.first, last])),
        'the upload begun before the migrations completes after them',
      );
    } finally {
      s3.destroy();
    }
  });
});

describe('docs/deploy.md: moving to many servers runs as written', { skip }, () => {
  let destination: StorageNamespace;
  let dataDir: string;

  before(async () => {
    destination = await freshNamespace('postgres-s3');
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-doc-migrate-'));
    const server = await startServerProcess(dataDir, EMBEDDED);
    const token = await runCli(['token', '--user', 'alice', '--data-dir', dataDir], EMBEDDED);
    const put = await pythonLikeClient(server.origin, token.stdout.trim()).put('/data/set/notes.txt', randomBytes(50_000));
    assert.equal(put.status, 200);
    server.child.kill('SIGTERM');
    await server.exited;
  });
  after(async () => {
    await destination?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('the block', async () => {
    const block = await docBlock('docs/deploy.md', 'migrate-example', 'sh');
    const { STOWAGE_JWT_SECRET: _secret, ...env } = destination.env;
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', block], {
      cwd: REPOSITORY_ROOT,
      env: { ...env, STOWAGE_JWT_SECRET: '', STOWAGE_DATA_DIR: dataDir, NODE_NO_WARNINGS: '1' },
    });
    assert.equal(code, 0, stdout + stderr);
    assert.match(stdout, /^verified: 1 objects/m);
    assert.match(stdout, /^stored: 48\.8 KiB \(50000 bytes\) in 1 objects$/m);
  });
});

describe('stowage migrate: flags', () => {
  const refused = async (args: string[], message: RegExp) => {
    const { code, stderr } = await runCli(['migrate', ...args], { NODE_NO_WARNINGS: '1' });
    assert.equal(code, 2, stderr);
    assert.match(stderr, message);
  };

  test('one direction, both of its flags, a postgres:// index and an s3:// bucket', async () => {
    await refused([], /either --to-index and --to-blobs .* or --from-index and --from-blobs/);
    await refused(['--to-index', 'postgres://db/stowage', '--from-blobs', 's3://bucket/prefix'], /either --to-index/);
    await refused(['--to-index', 'postgres://db/stowage'], /--to-index and --to-blobs go together/);
    await refused(['--from-blobs', 's3://bucket/prefix'], /--from-index and --from-blobs go together/);
    await refused(['--to-index', 'sqlite', '--to-blobs', 's3://bucket/prefix'], /index: "sqlite" is not a postgres:\/\/ URL/);
    await refused(['--to-index', 'postgres://db/stowage', '--to-blobs', 'files'], /blobs: "files" is not an s3:\/\/BUCKET\/PREFIX/);
    await refused(
      ['--to-index', 'mysql://db/stowage', '--to-blobs', 's3://bucket/prefix'],
      /index: must be "sqlite" or a postgres:\/\/ URL/,
    );
  });
});
