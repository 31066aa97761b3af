import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { addFinding, changedAt, type FsckContext, relativeTo, removeLeftover, statIfExists } from './fsck-context.js';
import { blobReferenced } from './index-db.js';

/** Every file in tmp/ belongs to a write that was never acknowledged (start-up removes them). */
export async function checkTempFiles(ctx: FsckContext): Promise<void> {
  for (const name of await readdirIfExists(ctx.files.tmpDir)) {
    const file = path.join(ctx.files.tmpDir, name);
    const stats = await statIfExists(file);
    if (!stats) continue;
    ctx.counts.tempFiles++;
    if (!ctx.settled(changedAt(stats))) continue;
    const finding = addFinding(ctx, {
      kind: 'temp-file',
      file: relativeTo(ctx, file),
      message: 'a temp file of a write that never completed',
    });
    await removeLeftover(ctx, finding, file);
  }
}

/**
 * Files under blobs/ that no index row references: a blob whose write crashed before its index
 * commit, or a replaced one whose removal was cut short. Anything under blobs/ that is not a
 * blob counts too (start-up removes all of these).
 */
export async function checkOrphanBlobs(ctx: FsckContext): Promise<void> {
  const referenced = blobReferenced(ctx.db);
  const blobDir = ctx.files.blobDir;
  for (const shard of await readdirIfExists(blobDir)) {
    const shardDir = path.join(blobDir, shard);
    const names = (await lstat(shardDir)).isDirectory() ? await readdirIfExists(shardDir) : undefined;
    const entries = names ? names.map((name) => path.join(shardDir, name)) : [shardDir];
    for (const file of entries) {
      const name = path.basename(file);
      if (isBlobName(ctx, name) && referenced.get(name) !== undefined) continue;
      const stats = await statIfExists(file);
      if (!stats || !ctx.settled(changedAt(stats))) continue;
      // Look again: a live server may have committed the row since the first look.
      if (isBlobName(ctx, name) && referenced.get(name) !== undefined) continue;
      const finding = addFinding(ctx, { kind: 'orphan-blob', file: relativeTo(ctx, file), message: 'no index row references this file' });
      await removeLeftover(ctx, finding, file);
    }
  }
}

/** A referenced blob is kept even in the wrong shard, as start-up keeps it: its bytes are data. */
function isBlobName(ctx: FsckContext, name: string): boolean {
  try {
    ctx.files.blobPath(name);
    return true;
  } catch {
    return false;
  }
}

export async function readdirIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
