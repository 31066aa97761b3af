#!/usr/bin/env node
// Node load generators of the PostgreSQL + S3 scenarios (bench/scenarios/scale-out.mjs), each run
// in a fresh process so the harness's own state does not weigh on them. Prints one JSON line.
// The store: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION (as scripts/services/rgw-start.sh
// prints them); Stowage: BENCH_TOKEN. The AWS SDK is the one packages/server depends on.
//   get-http URL BYTES CONCURRENCY WARM SECONDS   undici GET of URL (Authorization: Bearer), CONCURRENCY loops;
//        a 307 (read offload) is followed to the store without the Authorization
//   put-http URL BYTES CONCURRENCY WARM SECONDS   undici PUT of a BYTES body to URL, CONCURRENCY loops
//        (Authorization: Bearer when BENCH_TOKEN is set; a presigned URL needs none)
//   presign GET|PUT ENDPOINT BUCKET KEY [ACCESS SECRET]   a presigned URL valid an hour ({ url })
//   get-s3 BUCKET KEY BYTES CONCURRENCY WARM SECONDS  the same through the AWS SDK's GetObject
//        (each: WARM s of warm-up on the same connections, then SECONDS measured; every response
//        must be 200 with BYTES bytes, read to the end)
//   put-s3 BUCKET KEY FILE          one PutObject of FILE as a stream with its ContentLength, timed
//   multipart-s3 BUCKET KEY FILE PART_MIB QUEUE   a multipart upload of FILE (as @aws-sdk/lib-storage
//        does: parts of PART_MIB, QUEUE in flight, each a streamed slice of the file), timed
//   put-dir-s3 BUCKET PREFIX DIR CONCURRENCY   every file under DIR as PREFIX/<relative path>,
//        CONCURRENCY PutObjects in flight (a plain copy of a tree of files into the store), timed
//   complete-s3 BUCKET KEY SOURCE_KEY PARTS   a multipart upload of PARTS parts, each an
//        UploadPartCopy of all of SOURCE_KEY (16 in flight), then CompleteMultipartUpload, timed
//        alone ({ completeMs, size, parts }); the object's size is checked, and it is deleted after
//   create-bucket BUCKET | delete-s3 BUCKET KEY | count-s3 BUCKET PREFIX (objects under PREFIX)
//   | empty-s3 BUCKET PREFIX (deletes every object under PREFIX)
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(REPO, 'packages/server/package.json'));
const s3 = require('@aws-sdk/client-s3');
const { NodeHttpHandler } = require('@smithy/node-http-handler');

const [mode, ...args] = process.argv.slice(2);

/** An S3 client as the server makes one: keep-alive, path style, checksums only where required (RGW refuses aws-chunked bodies). */
function client(sockets = 64) {
  const agent = { keepAlive: true, maxSockets: sockets };
  return new s3.S3Client({
    endpoint: process.env.S3_ENDPOINT,
    region: process.env.S3_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: process.env.S3_ACCESS_KEY, secretAccessKey: process.env.S3_SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpAgent: agent, connectionTimeout: 5_000, requestTimeout: 120_000 }),
  });
}

function quantile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] : Number.NaN;
}

/** `concurrency` loops calling once() (which resolves with the bytes it read) until `seconds` are over. */
async function loop(once, concurrency, seconds) {
  const latencies = [];
  let bytes = 0;
  let errors = 0;
  let firstError;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          // (not `bytes += await once()`: that reads `bytes` before the await, losing the other loops' additions)
          const got = await once();
          bytes += got;
          latencies.push(performance.now() - t);
        } catch (error) {
          errors++;
          firstError ??= String(error?.message ?? error);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return {
    requests: latencies.length,
    errors,
    firstError,
    bytes,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    mbps: bytes / elapsed / 1e6,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

async function drain(body) {
  let n = 0;
  for await (const chunk of body) n += chunk.length;
  return n;
}

async function getHttp(url, bytes, concurrency, warm, seconds) {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  // Without a token: a presigned URL, which carries its own credentials.
  const headers = process.env.BENCH_TOKEN ? { authorization: `Bearer ${process.env.BENCH_TOKEN}` } : {};
  const once = async () => {
    let { statusCode, headers: answered, body } = await request(url, { dispatcher: agent, headers });
    // Read offload by redirect: the bytes come from the store's presigned URL, without credentials.
    if (statusCode === 307) {
      await drain(body);
      ({ statusCode, body } = await request(String(answered.location), { dispatcher: agent }));
    }
    const n = await drain(body);
    if (statusCode !== 200 || n !== bytes) throw new Error(`GET ${url}: ${statusCode}, ${n} bytes`);
    return n;
  };
  await loop(once, concurrency, warm);
  const result = await loop(once, concurrency, seconds);
  await agent.close();
  return result;
}

/** PUT of the same BYTES-long body to URL in CONCURRENCY loops (Authorization: Bearer when BENCH_TOKEN is set). */
async function putHttp(url, bytes, concurrency, warm, seconds) {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 30_000 });
  const body = Buffer.alloc(bytes, 'p');
  const headers = {
    'content-type': 'application/octet-stream',
    ...(process.env.BENCH_TOKEN ? { authorization: `Bearer ${process.env.BENCH_TOKEN}` } : {}),
  };
  const once = async () => {
    const { statusCode, body: answer } = await request(url, { method: 'PUT', dispatcher: agent, headers, body });
    await drain(answer);
    if (statusCode !== 200) throw new Error(`PUT ${url}: ${statusCode}`);
    return bytes;
  };
  await loop(once, concurrency, warm);
  const result = await loop(once, concurrency, seconds);
  await agent.close();
  return result;
}

/** A presigned GET or PUT URL of KEY in BUCKET at ENDPOINT, valid an hour (the store's S3_* credentials, or ACCESS and SECRET). */
async function presign(method, endpoint, bucket, key, accessKeyId, secretAccessKey) {
  const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
  const store = new s3.S3Client({
    endpoint,
    region: process.env.S3_REGION || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    // Else the SDK signs a CRC32 of an empty body into a PUT URL, which a checking server refuses.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const Command = method === 'PUT' ? s3.PutObjectCommand : s3.GetObjectCommand;
  const url = await getSignedUrl(store, new Command({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
  store.destroy();
  return { url };
}

async function getS3(bucket, key, bytes, concurrency, warm, seconds) {
  const store = client(concurrency);
  const once = async () => {
    const out = await store.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
    const n = await drain(out.Body);
    if (n !== bytes) throw new Error(`GetObject ${key}: ${n} bytes`);
    return n;
  };
  await loop(once, concurrency, warm);
  const result = await loop(once, concurrency, seconds);
  store.destroy();
  return result;
}

async function putS3(bucket, key, file) {
  const size = statSync(file).size;
  const store = client();
  const start = performance.now();
  await store.send(
    new s3.PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(file, { highWaterMark: 1024 * 1024 }),
      ContentLength: size,
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  store.destroy();
  return { size, seconds, mbps: size / seconds / 1e6 };
}

async function multipartS3(bucket, key, file, partMiB, queue) {
  const size = statSync(file).size;
  const partBytes = partMiB * 1024 * 1024;
  const store = client(queue);
  const start = performance.now();
  const { UploadId } = await store.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: queue }, async () => {
        for (;;) {
          const index = next++;
          const from = index * partBytes;
          if (from >= size) return;
          const length = Math.min(partBytes, size - from);
          const body = createReadStream(file, { start: from, end: from + length - 1, highWaterMark: 1024 * 1024 });
          const out = await store.send(
            new s3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: index + 1, Body: body, ContentLength: length }),
          );
          parts[index] = { PartNumber: index + 1, ETag: out.ETag };
        }
      }),
    );
    await store.send(new s3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await store.send(new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId })).catch(() => {});
    throw error;
  }
  const seconds = (performance.now() - start) / 1000;
  store.destroy();
  return { size, seconds, mbps: size / seconds / 1e6, parts: parts.length };
}

/** Every regular file under `dir`, as paths relative to it. */
function filesUnder(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

async function putDirS3(bucket, prefix, dir, concurrency) {
  const files = filesUnder(dir);
  const store = client(concurrency);
  let next = 0;
  let bytes = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < files.length; index = next++) {
        const file = path.join(dir, files[index]);
        const size = statSync(file).size;
        await store.send(
          new s3.PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${files[index]}`, Body: createReadStream(file), ContentLength: size }),
        );
        bytes += size;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  store.destroy();
  return { objects: files.length, bytes, seconds, mbps: bytes / seconds / 1e6 };
}

async function emptyS3(bucket, prefix) {
  const store = client(16);
  let deleted = 0;
  for (;;) {
    const out = await store.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const keys = (out.Contents ?? []).map((object) => object.Key);
    if (keys.length === 0) break;
    // One DeleteObject each: DeleteObjects needs a checksum header that not every store takes.
    for (let at = 0; at < keys.length; at += 16)
      await Promise.all(keys.slice(at, at + 16).map((Key) => store.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key }))));
    deleted += keys.length;
  }
  store.destroy();
  return { deleted };
}

async function countS3(bucket, prefix) {
  const store = client();
  let count = 0;
  let bytes = 0;
  let token;
  do {
    const out = await store.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of out.Contents ?? []) {
      count++;
      bytes += object.Size ?? 0;
    }
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  store.destroy();
  return { count, bytes };
}

/** complete-s3: the time of CompleteMultipartUpload alone, over PARTS parts copied from one source. */
async function completeS3(bucket, key, sourceKey, parts) {
  const store = client(16);
  try {
    const source = await store.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: sourceKey }));
    const { UploadId } = await store.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const listed = new Array(parts);
    let next = 0;
    const copyParts = async () => {
      for (let i = next++; i < parts; i = next++) {
        const copied = await store.send(
          new s3.UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, CopySource: `${bucket}/${sourceKey}` }),
        );
        listed[i] = { PartNumber: i + 1, ETag: copied.CopyPartResult?.ETag };
      }
    };
    await Promise.all(Array.from({ length: 16 }, copyParts));
    const started = performance.now();
    await store.send(new s3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: listed } }));
    const completeMs = performance.now() - started;
    const made = await store.send(new s3.HeadObjectCommand({ Bucket: bucket, Key: key }));
    const size = (source.ContentLength ?? 0) * parts;
    if (made.ContentLength !== size) throw new Error(`the completed object holds ${made.ContentLength} bytes, not ${size}`);
    await store.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    return { completeMs, size, parts };
  } finally {
    store.destroy();
  }
}

let result;
const n = (i) => Number(args[i]);
if (mode === 'get-http') result = await getHttp(args[0], n(1), n(2), n(3), n(4));
else if (mode === 'put-http') result = await putHttp(args[0], n(1), n(2), n(3), n(4));
else if (mode === 'presign')
  result = await presign(args[0], args[1], args[2], args[3], args[4] ?? process.env.S3_ACCESS_KEY, args[5] ?? process.env.S3_SECRET_KEY);
else if (mode === 'get-s3') result = await getS3(args[0], args[1], n(2), n(3), n(4), n(5));
else if (mode === 'put-s3') result = await putS3(args[0], args[1], args[2]);
else if (mode === 'multipart-s3') result = await multipartS3(args[0], args[1], args[2], n(3), n(4));
else if (mode === 'put-dir-s3') result = await putDirS3(args[0], args[1], args[2], n(3));
else if (mode === 'empty-s3') result = await emptyS3(args[0], args[1]);
else if (mode === 'complete-s3') result = await completeS3(args[0], args[1], args[2], n(3));
else if (mode === 'create-bucket') {
  const store = client();
  await store.send(new s3.CreateBucketCommand({ Bucket: args[0] }));
  store.destroy();
  result = { bucket: args[0] };
} else if (mode === 'delete-s3') {
  const store = client();
  await store.send(new s3.DeleteObjectCommand({ Bucket: args[0], Key: args[1] }));
  store.destroy();
  result = { deleted: args[1] };
} else if (mode === 'count-s3') result = await countS3(args[0], args[1]);
else throw new Error(`unknown mode ${mode}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
