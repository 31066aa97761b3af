// Guards the S3 API (docs/s3.md) as the Python data ecosystem uses it with DEFAULT settings: pyarrow's
// S3FileSystem (the AWS C++ SDK: every UploadPart carries a CRC64NVME trailer, DeleteObjects a
// CRC64NVME header), polars (Rust's object_store: CreateMultipartUpload asks for CRC64NVME) and
// pandas over pyarrow's filesystem. Each writes and reads Parquet (one file big enough to go
// multipart), a partitioned dataset, and removes a directory; what they wrote is then checked
// through the AWS SDK: bytes, and the CRC64NVME checksum stored with the object. A missing
// library skips with a reason (scripts/services/data-tools.sh installs them; CI makes it an error).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { dataToolsSkip, dataToolVersions, runDataScript } from './helpers/data-tools.js';
import type { S3Endpoint } from './helpers/s3-tools.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Runs a script and gives the JSON object it prints last. */
async function run(target: S3Endpoint, script: string): Promise<Record<string, unknown>> {
  const result = await runDataScript(target, script);
  assert.equal(result.code, 0, `the script exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

/** Python that connects pyarrow to the server's S3 port from the environment, with pyarrow's defaults. */
const PYARROW_FS = `import os, json, hashlib
from urllib.parse import urlparse
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.dataset as ds, pyarrow.fs as pafs
endpoint = urlparse(os.environ["S3_ENDPOINT"])
s3 = pafs.S3FileSystem(endpoint_override=endpoint.netloc, scheme=endpoint.scheme, region="us-east-1")
table = pa.table({"id": list(range(3000)), "city": [["oslo", "lima", "pune"][i % 3] for i in range(3000)], "value": [i * 0.5 for i in range(3000)]})
big = bytes(range(256)) * (12 * 4096)  # 12 MiB: pyarrow sends it in parts
`;

const PYARROW_SCRIPT = `${PYARROW_FS}
pq.write_table(table, "data/pyarrow/table.parquet", filesystem=s3)
assert pq.read_table("data/pyarrow/table.parquet", filesystem=s3).equals(table)
with s3.open_output_stream("data/pyarrow/big.bin") as out:
    out.write(big)
with s3.open_input_stream("data/pyarrow/big.bin") as f:
    assert f.read() == big
ds.write_dataset(table, "data/pyarrow/dataset", format="parquet", filesystem=s3,
                 partitioning=ds.partitioning(pa.schema([("city", pa.string())]), flavor="hive"))
back = ds.dataset("data/pyarrow/dataset", format="parquet", filesystem=s3, partitioning="hive").to_table()
assert back.num_rows == table.num_rows and sorted(back.column("id").to_pylist()) == list(range(3000))
parts = sorted(i.path for i in s3.get_file_info(pafs.FileSelector("data/pyarrow/dataset", recursive=True)) if i.type == pafs.FileType.File)
s3.delete_dir("data/pyarrow/dataset")
left = s3.get_file_info(pafs.FileSelector("data/pyarrow/dataset", allow_not_found=True, recursive=True))
print(json.dumps({"files": parts, "left": [i.path for i in left], "bigSha256": hashlib.sha256(big).hexdigest()}))
`;

const PANDAS_SCRIPT = `${PYARROW_FS}
import pandas as pd
frame = pd.DataFrame({"id": range(3000), "city": [["oslo", "lima", "pune"][i % 3] for i in range(3000)]})
frame.to_parquet("data/pandas/frame.parquet", filesystem=s3, index=False)
back = pd.read_parquet("data/pandas/frame.parquet", filesystem=s3)
assert back.equals(frame), back
with s3.open_output_stream("data/pandas/frame.csv") as out:
    out.write(frame.to_csv(index=False).encode())
with s3.open_input_file("data/pandas/frame.csv") as f:
    assert pd.read_csv(f).equals(frame)
s3.delete_dir("data/pandas")
print(json.dumps({"left": [i.path for i in s3.get_file_info(pafs.FileSelector("data/pandas", allow_not_found=True, recursive=True))]}))
`;

const POLARS_SCRIPT = `import os, json, hashlib
import polars as pl
options = {"aws_endpoint_url": os.environ["S3_ENDPOINT"], "aws_region": "us-east-1", "aws_allow_http": "true",
           "aws_access_key_id": os.environ["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"]}
frame = pl.DataFrame({"id": range(3000), "city": [["oslo", "lima", "pune"][i % 3] for i in range(3000)], "value": [i * 0.5 for i in range(3000)]})
frame.write_parquet("s3://data/polars/frame.parquet", storage_options=options)
assert pl.read_parquet("s3://data/polars/frame.parquet", storage_options=options).equals(frame)
# 12 MiB of incompressible values: object_store sends it as a multipart upload.
big = pl.DataFrame({"x": [int.from_bytes(hashlib.sha256(str(i).encode()).digest()[:8], "little", signed=True) for i in range(1_600_000)]})
big.write_parquet("s3://data/polars/big.parquet", storage_options=options, compression="uncompressed")
assert pl.read_parquet("s3://data/polars/big.parquet", storage_options=options).equals(big)
frame.write_parquet("s3://data/polars/dataset/", partition_by=["city"], storage_options=options)
back = pl.scan_parquet("s3://data/polars/dataset/**/*.parquet", hive_partitioning=True, storage_options=options).collect()
assert back.height == frame.height and sorted(back["id"].to_list()) == list(range(3000))
print(json.dumps({"ok": True}))
`;

describe(`Python data libraries with their default settings (${dataToolVersions()})`, { skip: dataToolsSkip }, () => {
  let ts: TestServer;
  let target: S3Endpoint;
  let s3: S3Client;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    const key = await ts.server.createApiKey('alice');
    // The S3 port: pyarrow takes an endpoint as host:port only.
    target = { endpoint: ts.server.s3RootUrl(), accessKeyId: key.clientId, secretAccessKey: key.secret };
    s3 = new S3Client({
      endpoint: `${ts.origin}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
    });
  });
  after(async () => {
    s3?.destroy();
    await ts?.close();
  });

  const keysUnder = async (prefix: string) =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: prefix }))).Contents ?? []).map((object) => object.Key);
  const sha256Of = async (key: string) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: key }));
    return createHash('sha256')
      .update(await (answer.Body?.transformToByteArray() ?? new Uint8Array()))
      .digest('hex');
  };

  test('pyarrow: Parquet, a 12 MiB multipart write, a partitioned dataset and delete_dir', async () => {
    const result = await run(target, PYARROW_SCRIPT);
    assert.deepEqual(
      (result.files as string[]).map((path) => path.replace(/\/[^/]+$/, '')),
      ['data/pyarrow/dataset/city=lima', 'data/pyarrow/dataset/city=oslo', 'data/pyarrow/dataset/city=pune'],
    );
    assert.deepEqual(result.left, [], 'delete_dir removed the dataset');
    assert.deepEqual((await keysUnder('pyarrow/dataset/')).length, 0);
    assert.equal(await sha256Of('pyarrow/big.bin'), result.bigSha256);
    // pyarrow checksummed each part with CRC64NVME: the object keeps the whole-object CRC64NVME.
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'pyarrow/big.bin', ChecksumMode: 'ENABLED' }));
    assert.match(head.ChecksumCRC64NVME ?? '', /^[A-Za-z0-9+/]{11}=$/);
    assert.equal(head.ChecksumType, 'FULL_OBJECT');
  });

  test('pandas over pyarrow: to_parquet / read_parquet, a CSV, delete_dir', async () => {
    const result = await run(target, PANDAS_SCRIPT);
    assert.deepEqual(result.left, []);
    assert.deepEqual(await keysUnder('pandas/'), []);
  });

  test('polars: write_parquet / read_parquet, a 12 MiB multipart write, a partitioned write and scan', async () => {
    const result = await run(target, POLARS_SCRIPT);
    assert.equal(result.ok, true);
    const keys = await keysUnder('polars/');
    assert.ok(keys.includes('polars/big.parquet') && keys.includes('polars/frame.parquet'), keys.join(', '));
    assert.ok(
      keys.some((key) => key?.startsWith('polars/dataset/city=oslo/')),
      keys.join(', '),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'polars/big.parquet', ChecksumMode: 'ENABLED' }));
    assert.ok(head.ContentLength && head.ContentLength > 12_000_000, `big.parquet is ${head.ContentLength} bytes`);
  });
});
