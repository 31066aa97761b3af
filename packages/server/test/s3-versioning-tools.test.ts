// S3 versioning with the tools people use, each run as its own process against a real server, on
// whichever deployment the suite runs: the AWS CLI's s3api (put-bucket-versioning, put-object,
// list-object-versions, get-object --version-id, delete-object, copy-object from a version) and
// boto3 (the same flow, delete_objects with VersionId, and the list_object_versions paginator).
// A tool that is not installed skips its tests with a reason (scripts/services/s3-tools.sh
// installs them; CI sets STOWAGE_TEST_S3_TOOLS=1, making a missing tool an error).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BucketInfo, VersionsPage } from 'stowage-client/protocol';
import { docBlock } from './helpers/doc-blocks.js';
import { awsSkip, boto3Skip, type S3Tools, s3Tools, type ToolResult, toolVersions } from './helpers/s3-tools.js';
import { runProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;

const versions = toolVersions();
const uniqueName = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;

function ok(result: ToolResult, what: string): string {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

interface ListedVersions {
  Versions?: Array<{ Key: string; VersionId: string; IsLatest: boolean; Size: number }>;
  DeleteMarkers?: Array<{ Key: string; VersionId: string; IsLatest: boolean }>;
}

describe('S3 versioning with the AWS CLI and boto3', () => {
  let ts: TestServer;
  let tools: S3Tools;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    const key = await ts.server.createApiKey('alice');
    tools = await s3Tools({ endpoint: `${ts.origin}/s3`, accessKeyId: key.clientId, secretAccessKey: key.secret });
  });
  after(async () => {
    await tools?.close();
    await ts?.close();
  });

  describe(`aws-cli (${versions.aws})`, { skip: awsSkip }, () => {
    const aws = async (...args: string[]) => ok(await tools.aws(args, { cwd: tools.dir }), `aws ${args.slice(0, 2).join(' ')}`);
    const json = async <T>(...args: string[]) => JSON.parse(await aws(...args)) as T;

    test('the lifecycle example of docs/s3.md runs as written: a rule for a prefix keeps its keys’ versions its own time', async () => {
      const bucket = uniqueName('team-logs');
      const script = (await docBlock('docs/s3.md', 'lifecycle-example', 'sh'))
        .replaceAll('http://127.0.0.1:8787/s3', `${ts.origin}/s3`)
        .replaceAll('BUCKET=team-logs', `BUCKET=${bucket}`);
      const { code, stdout, stderr } = await runProcess(
        '/usr/bin/env',
        [
          '-i',
          `PATH=${process.env.PATH}`,
          `HOME=${tools.dir}`,
          `AWS_CONFIG_FILE=${path.join(tools.dir, '.aws', 'config')}`,
          `AWS_SHARED_CREDENTIALS_FILE=${path.join(tools.dir, '.aws', 'credentials')}`,
          'AWS_EC2_METADATA_DISABLED=true',
          'AWS_PAGER=',
          'bash',
          '-euo',
          'pipefail',
          '-c',
          script,
        ],
        { cwd: tools.dir },
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^logs\/app\.log\tTrue\nlogs\/app\.log\tFalse$/m);
      const rules = JSON.parse(await aws('s3api', 'get-bucket-lifecycle-configuration', '--bucket', bucket)) as {
        Rules: Array<{ ID: string; NoncurrentVersionExpiration: { NoncurrentDays: number } }>;
      };
      assert.deepEqual(
        rules.Rules.map((rule) => [rule.ID, rule.NoncurrentVersionExpiration.NoncurrentDays]),
        [
          ['logs', 2],
          ['everything', 30],
        ],
      );
      const res = await fetch(`${ts.url}/${bucket}/versions?prefix=`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } });
      const kept = ((await res.json()) as VersionsPage).versions.filter((version) => !version.current);
      assert.deepEqual(
        kept.map((version) => [version.key, (Date.parse(version.purgeAfter as string) - Date.parse(version.deletedAt as string)) / DAY]),
        [['logs/app.log', 2]],
      );
      const info = (await (
        await fetch(`${ts.url}/buckets/${bucket}`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } })
      ).json()) as BucketInfo;
      assert.equal(info.retentionDays, 30, 'the rule for every key is the window');
    });

    test('versioning on, two puts, list, get an older version, delete (a marker), restore by copy-object from a version', async () => {
      const bucket = uniqueName('cli-versions');
      await aws('s3api', 'create-bucket', '--bucket', bucket);
      await aws('s3api', 'put-bucket-versioning', '--bucket', bucket, '--versioning-configuration', 'Status=Enabled');
      assert.equal((await json<{ Status: string }>('s3api', 'get-bucket-versioning', '--bucket', bucket)).Status, 'Enabled');

      const body = path.join(tools.dir, 'body.txt');
      const put = async (text: string) => {
        await writeFile(body, text);
        return (await json<{ VersionId: string }>('s3api', 'put-object', '--bucket', bucket, '--key', 'report.txt', '--body', body))
          .VersionId;
      };
      const first = await put('first draft');
      const second = await put('final figures');
      assert.ok(first && second && first !== second);

      let listed = await json<ListedVersions>('s3api', 'list-object-versions', '--bucket', bucket);
      assert.deepEqual(
        listed.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
        [
          ['report.txt', second, true, 13],
          ['report.txt', first, false, 11],
        ],
      );

      const out = path.join(tools.dir, 'older.txt');
      const got = await json<{ VersionId: string }>(
        's3api',
        'get-object',
        '--bucket',
        bucket,
        '--key',
        'report.txt',
        '--version-id',
        first,
        out,
      );
      assert.equal(got.VersionId, first);
      assert.equal(await readFile(out, 'utf8'), 'first draft');

      const deleted = await json<{ DeleteMarker?: boolean; VersionId?: string }>(
        's3api',
        'delete-object',
        '--bucket',
        bucket,
        '--key',
        'report.txt',
      );
      assert.equal(deleted.DeleteMarker, true);
      listed = await json<ListedVersions>('s3api', 'list-object-versions', '--bucket', bucket);
      assert.deepEqual(
        listed.DeleteMarkers?.map((m) => [m.Key, m.VersionId, m.IsLatest]),
        [['report.txt', deleted.VersionId, true]],
        'the delete left a marker, which its answer named',
      );
      assert.deepEqual(
        listed.Versions?.map((v) => [v.VersionId, v.IsLatest]),
        [
          [second, false],
          [first, false],
        ],
      );
      const gone = await tools.aws(['s3api', 'head-object', '--bucket', bucket, '--key', 'report.txt'], { cwd: tools.dir });
      assert.notEqual(gone.code, 0, 'deleted: no current value');

      const copied = await json<{ VersionId: string; CopySourceVersionId: string }>(
        's3api',
        'copy-object',
        '--bucket',
        bucket,
        '--key',
        'report.txt',
        '--copy-source',
        `${bucket}/report.txt?versionId=${first}`,
      );
      assert.equal(copied.CopySourceVersionId, first);
      const restored = path.join(tools.dir, 'restored.txt');
      const current = await json<{ VersionId: string }>('s3api', 'get-object', '--bucket', bucket, '--key', 'report.txt', restored);
      assert.equal(await readFile(restored, 'utf8'), 'first draft');
      assert.equal(current.VersionId, copied.VersionId);
      listed = await json<ListedVersions>('s3api', 'list-object-versions', '--bucket', bucket, '--prefix', 'report');
      assert.equal(listed.Versions?.length, 3, 'the restore is a new version; the others are kept');
      assert.equal(listed.DeleteMarkers?.length, 1);
    });
  });

  describe(`boto3 (${versions.boto3})`, { skip: boto3Skip }, () => {
    test('the same flow, delete_objects with VersionId, and a paginator over list_object_versions', async () => {
      const bucket = uniqueName('boto-versions');
      const script = `
bucket = sys.argv[1]
out = {}
s3.create_bucket(Bucket=bucket)
s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
out["status"] = s3.get_bucket_versioning(Bucket=bucket)["Status"]
first = s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\\n1,2\\n")["VersionId"]
second = s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\\n9,9\\n")["VersionId"]
out["older"] = s3.get_object(Bucket=bucket, Key="data.csv", VersionId=first)["Body"].read().decode()
out["current_id_is_second"] = s3.head_object(Bucket=bucket, Key="data.csv")["VersionId"] == second
s3.delete_object(Bucket=bucket, Key="data.csv")
listed = s3.list_object_versions(Bucket=bucket)
out["markers"] = [[m["Key"], m["IsLatest"]] for m in listed.get("DeleteMarkers", [])]
copied = s3.copy_object(Bucket=bucket, Key="data.csv", CopySource={"Bucket": bucket, "Key": "data.csv", "VersionId": first})
out["copy_source_version"] = copied["CopySourceVersionId"] == first
out["restored"] = s3.get_object(Bucket=bucket, Key="data.csv")["Body"].read().decode()

# delete_objects with VersionId: the second version and the marker go for good.
marker = listed["DeleteMarkers"][0]["VersionId"]
answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
    {"Key": "data.csv", "VersionId": second}, {"Key": "data.csv", "VersionId": marker}]})
out["deleted"] = sorted([[d["Key"], d["VersionId"] == second, d.get("DeleteMarker", False)] for d in answer["Deleted"]])
out["errors"] = answer.get("Errors", [])

# Many versions of many keys, paged two at a time by the paginator.
for i in range(5):
    for j in range(3):
        s3.put_object(Bucket=bucket, Key=f"logs/{i}.txt", Body=f"{i}.{j}".encode())
seen = []
pages = 0
for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="logs/", PaginationConfig={"PageSize": 2}):
    pages += 1
    seen += [v["Key"] + "@" + v["VersionId"] for v in page.get("Versions", [])]
out["paged"] = [len(seen), len(set(seen)), pages]
folders = s3.list_object_versions(Bucket=bucket, Delimiter="/")
out["folders"] = [p["Prefix"] for p in folders.get("CommonPrefixes", [])]
print(json.dumps(out))
`;
      const result = await tools.python(script, [bucket]);
      const out = JSON.parse(ok(result, 'boto3 script').trim().split('\n').at(-1) ?? '{}');
      assert.deepEqual(out, {
        status: 'Enabled',
        older: 'a,b\n1,2\n',
        current_id_is_second: true,
        markers: [['data.csv', true]],
        copy_source_version: true,
        restored: 'a,b\n1,2\n',
        deleted: [
          ['data.csv', false, true],
          ['data.csv', true, false],
        ],
        errors: [],
        paged: [15, 15, 8],
        folders: ['logs/'],
      });
    });
  });
});
