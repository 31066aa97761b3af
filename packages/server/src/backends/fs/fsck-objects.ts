import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { isManifestId } from '../composite.js';
import { addFinding, type FsckContext, relativeTo, statIfExists } from './fsck-context.js';
import type { FindingKind, FsckFinding } from './fsck-findings.js';
import { dropObjectRow, tableExists } from './fsck-usage.js';
import { countedRows } from './index-db.js';

interface ObjectRowToCheck {
  id: number;
  tenant: string;
  type: string;
  key: Buffer;
  size: number;
  sha256: string;
  blob_id: string | null;
  inline_data: Buffer | null;
}

interface Problem {
  kind: FindingKind;
  message: string;
  file?: string;
}

const PAGE = 500;
/** Hashes of blobs already checked in this run, for the other rows that name them (copies). */
const HASHED_BLOBS_REMEMBERED = 100_000;

/**
 * Checks every visible object row against its value: the blob file exists, has the row's size
 * and (unless quick) its sha256; an inline value likewise. Rows are read a page at a time, each
 * page its own snapshot, so a live server's checkpoints are never held back for long.
 */
export async function checkObjects(ctx: FsckContext): Promise<void> {
  // Expired rows are already invisible and the sweeper deletes them: nothing to serve, nothing to check.
  const page = ctx.db.prepare(
    `SELECT id, tenant, type, key, size, sha256, blob_id, inline_data FROM objects
     WHERE id > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?`,
  );
  // A row a live server deleted meanwhile (kept as a version, or gone) is not the row that was read.
  const current = ctx.db.prepare(`SELECT blob_id, size, sha256 FROM objects WHERE id = ? AND ${countedRows(ctx.db)}`);
  const manifest = manifestPartsOf(ctx);
  // Copies share a blob: its bytes are hashed once, not once per row that names it.
  const hashes = new LRUCache<string, string>({ max: HASHED_BLOBS_REMEMBERED });
  // A damaged blob is damaged for every row that names it, also once a repair moved its bytes away.
  const damagedBlobs = new Map<string, Problem>();
  for (let after = 0; ; ) {
    const rows = page.all(after, ctx.now, PAGE) as ObjectRowToCheck[];
    for (const row of rows) {
      ctx.counts.objects++;
      const problem =
        row.blob_id === null
          ? checkInline(ctx, row)
          : (damagedBlobs.get(row.blob_id) ??
            (isManifestId(row.blob_id)
              ? await checkComposite(ctx, row, manifest(row.blob_id), hashes)
              : await checkBlob(ctx, row, row.blob_id, hashes)));
      if (problem && row.blob_id) damagedBlobs.set(row.blob_id, problem);
      // A live server may have overwritten or deleted the row since it was read: only a row
      // that still says the same thing is damaged.
      if (!problem || !isUnchanged(current.get(row.id) as Partial<ObjectRowToCheck> | undefined, row)) continue;
      const finding = addFinding(ctx, { ...problem, object: describeObject(row) });
      await repairObject(ctx, row, finding);
    }
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return;
    after = last.id;
  }
}

/** The parts of a manifest, as the data directory's index lists them (none in one made before composites). */
function manifestPartsOf(ctx: FsckContext): (manifestId: string) => ObjectRowToCheck[] {
  if (!tableExists(ctx.db, 'manifest_parts')) return () => [];
  const parts = ctx.db.prepare(
    'SELECT seq AS id, size, sha256, blob_id, inline_data FROM manifest_parts WHERE manifest_id = ? ORDER BY seq',
  );
  return (manifestId) => parts.all(manifestId) as ObjectRowToCheck[];
}

/**
 * A composite value: its parts add up to the row's size, and each holds its bytes as a value does
 * (its blob file, or inline, with its sha256). The row's sha256 names the parts it was made of
 * (composite.ts), which a part that was itself composite lent its own parts to.
 */
async function checkComposite(
  ctx: FsckContext,
  row: ObjectRowToCheck,
  parts: ObjectRowToCheck[],
  hashes: LRUCache<string, string>,
): Promise<Problem | undefined> {
  const size = parts.reduce((sum, part) => sum + part.size, 0);
  if (parts.length === 0 || size !== row.size)
    return {
      kind: 'missing-blob',
      message: `the index names composite value "${row.blob_id}", whose parts hold ${size} bytes, not ${row.size}`,
    };
  for (const [i, part] of parts.entries()) {
    const problem = part.blob_id === null ? checkInline(ctx, part) : await checkBlob(ctx, part, part.blob_id, hashes);
    if (problem) return { ...problem, message: `part ${i + 1} of the composite value: ${problem.message}` };
  }
  return undefined;
}

function checkInline(ctx: FsckContext, row: ObjectRowToCheck): Problem | undefined {
  const value = row.inline_data ?? Buffer.alloc(0);
  if (value.length !== row.size) {
    return { kind: 'size-mismatch', message: `the inline value holds ${value.length} bytes, the index says ${row.size}` };
  }
  if (ctx.quick) return undefined;
  const sha256 = createHash('sha256').update(value).digest('hex');
  ctx.counts.bytesHashed += value.length;
  if (sha256 !== row.sha256)
    return { kind: 'sha256-mismatch', message: `the inline value hashes to ${sha256}, the index says ${row.sha256}` };
  return undefined;
}

async function checkBlob(
  ctx: FsckContext,
  row: ObjectRowToCheck,
  blobId: string,
  hashes: LRUCache<string, string>,
): Promise<Problem | undefined> {
  let file: string;
  try {
    file = ctx.files.blobPath(blobId);
  } catch {
    return { kind: 'missing-blob', message: `the index names blob "${blobId}", which is not a blob id` };
  }
  const where = relativeTo(ctx, file);
  const stats = await statIfExists(file);
  if (!stats) return { kind: 'missing-blob', file: where, message: 'the blob file does not exist' };
  ctx.counts.blobs++;
  if (stats.size !== row.size) {
    return { kind: 'size-mismatch', file: where, message: `the blob file holds ${stats.size} bytes, the index says ${row.size}` };
  }
  if (ctx.quick) return undefined;
  let sha256 = hashes.get(blobId);
  if (sha256 === undefined) {
    sha256 = await hashFile(file);
    if (sha256 === undefined) return { kind: 'missing-blob', file: where, message: 'the blob file does not exist' };
    ctx.counts.bytesHashed += stats.size;
    hashes.set(blobId, sha256);
  }
  if (sha256 !== row.sha256)
    return { kind: 'sha256-mismatch', file: where, message: `the bytes hash to ${sha256}, the index says ${row.sha256}` };
  return undefined;
}

/**
 * Rows with a missing or damaged value are never dropped unless asked: a row that fails GET
 * tells whoever wrote the key that something is wrong, a 404 would not. Damaged bytes are kept
 * in lost+found/ with the row's description, for salvage or comparison with a backup.
 */
async function repairObject(ctx: FsckContext, row: ObjectRowToCheck, finding: FsckFinding): Promise<void> {
  if (!ctx.repair) return;
  const drop = ctx.db.prepare(`DELETE FROM objects WHERE id = ? AND blob_id IS ? AND sha256 = ? AND ${countedRows(ctx.db)}`);
  // A composite value's manifest goes to the collector, which dissolves it once no row names it.
  const queue = ctx.db.prepare('INSERT INTO gc_queue (blob_id, due_at) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const dropRow = () => {
    const changes = drop.run(row.id, row.blob_id, row.sha256).changes;
    if (changes > 0 && isManifestId(row.blob_id)) queue.run(row.blob_id, ctx.now);
    return changes;
  };
  if (finding.kind === 'missing-blob') {
    if (!ctx.repair.dropMissing) return;
    dropObjectRow(ctx.db, dropRow, row);
    finding.repaired = 'dropped the index row: GET now answers 404';
    return;
  }
  if (!ctx.repair.dropDamaged) return;
  const lostAndFound = path.join(ctx.dataDir, 'lost+found');
  const name = row.blob_id ?? `inline-${row.id}`;
  await mkdir(lostAndFound, { recursive: true, mode: 0o700 });
  // Another row may share the blob (a copy) and have moved its bytes already: then this row's
  // description goes beside them under a name of its own.
  let moved = true;
  // A composite value's parts may be another value's too: they stay where they are.
  if (isManifestId(row.blob_id)) moved = false;
  else if (row.blob_id)
    moved = await rename(ctx.files.blobPath(row.blob_id), path.join(lostAndFound, name)).then(() => true, ignoreMissing);
  else await writeFile(path.join(lostAndFound, name), row.inline_data ?? Buffer.alloc(0), { mode: 0o600 });
  const description = { ...describeObject(row), size: row.size, sha256: row.sha256, problem: finding.message };
  const descriptionFile = moved ? `${name}.json` : `${name}.row-${row.id}.json`;
  await writeFile(path.join(lostAndFound, descriptionFile), `${JSON.stringify(description, null, 2)}\n`, { mode: 0o600 });
  dropObjectRow(ctx.db, dropRow, row);
  finding.repaired = `dropped the index row: GET now answers 404; the bytes are in lost+found/${name}`;
}

/** False for a file already gone; any other error is thrown. */
function ignoreMissing(error: NodeJS.ErrnoException): false {
  if (error.code !== 'ENOENT') throw error;
  return false;
}

/** The sha256 of a file, or undefined if it vanished (a live server removed a replaced blob). */
async function hashFile(file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return hash.digest('hex');
}

function isUnchanged(now: Partial<ObjectRowToCheck> | undefined, before: ObjectRowToCheck): boolean {
  return now !== undefined && now.blob_id === before.blob_id && now.size === before.size && now.sha256 === before.sha256;
}

function describeObject(row: ObjectRowToCheck) {
  return { tenant: row.tenant, type: row.type, key: row.key.toString('utf8') };
}
