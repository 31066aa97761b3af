import type { BucketName, ListEntry, ObjectDetails } from 'stowage-client';
import { MAX_LIST_LIMIT } from 'stowage-client/protocol';
import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { parseKeyArgument } from '../remote-path.js';

interface LsFlags {
  recursive?: boolean;
  all?: boolean;
  long?: boolean;
  json?: boolean;
}

/** One line of `ls -l`: an object (`key`, `size`…), or a folder (`key` ending in /, `folder: true`). */
type Row =
  | {
      key: string;
      size: number;
      modified: string;
      type: string;
      expires?: string;
      etag: string;
      sha256: string;
      metadata: Record<string, string>;
      cacheControl: string | null;
      contentDisposition: string | null;
    }
  | { key: string; folder: true };

/**
 * `stowage ls [PREFIX] [-R] [--all] [-l] [--json]`: one level below PREFIX, deeper keys shown as
 * their folder (`photos/2025/`), or with -R every key; one page of 1000 entries, or all with --all.
 * -l describes each key from the listing itself (one request per page, not one per key). PREFIX
 * is in the storage type (or bucket) of -t, or names its own: `stowage://BUCKET/PREFIX`.
 */
export async function runLs(ctx: CommandContext, [argument]: string[], options: LsFlags): Promise<number> {
  const { type, key: prefix } = argument === undefined ? { type: ctx.storageType, key: '' } : parseKeyArgument(argument, ctx.storageType);
  const entries: ListEntry[] = [];
  let more = false;
  for await (const entry of listing(ctx, type, prefix, options)) {
    // One page of entries, unless --all: the one after it only says that there are more.
    if (!options.all && entries.length === MAX_LIST_LIMIT) {
      more = true;
      break;
    }
    entries.push(typeof entry === 'string' ? { kind: 'object', key: entry } : entry);
  }
  // On stderr, so that stdout stays the list a script reads.
  if (more) ctx.stderr.write(`stowage ls: the first ${MAX_LIST_LIMIT} entries; there are more: --all lists every one\n`);
  if (!options.long) {
    const names = entries.map((entry) => (entry.kind === 'folder' ? entry.prefix : entry.key));
    ctx.stdout.write(options.json ? `${JSON.stringify(names)}\n` : names.map((name) => `${name}\n`).join(''));
    return Exit.ok;
  }
  const rows = entries.map(rowOf);
  if (options.json) ctx.stdout.write(`${JSON.stringify(rows)}\n`);
  else for (const row of rows) ctx.stdout.write(`${formatRow(row)}\n`);
  return Exit.ok;
}

function listing(ctx: CommandContext, type: BucketName, prefix: string, options: LsFlags): AsyncGenerator<string | ListEntry> {
  // -R alone is the plain listing, exactly as before folders existed.
  if (options.recursive && !options.long) return ctx.storage.iterList(prefix, type);
  return ctx.storage.iterList(prefix, {
    storageType: type,
    delimiter: options.recursive ? undefined : '/',
    details: options.long,
  });
}

function rowOf(entry: ListEntry): Row {
  if (entry.kind === 'folder') return { key: entry.prefix, folder: true };
  const details = entry.details as ObjectDetails;
  return {
    key: entry.key,
    size: details.size,
    modified: details.lastModified,
    type: details.contentType,
    expires: details.expiresAt ?? undefined,
    etag: details.etag,
    sha256: details.sha256,
    metadata: details.metadata,
    cacheControl: details.cacheControl,
    contentDisposition: details.contentDisposition,
  };
}

function formatRow(row: Row): string {
  if ('folder' in row) return `${'-'.padStart(10)}  ${''.padEnd(24)}  ${'folder'.padEnd(24)}  ${row.key}`;
  return `${formatBytes(row.size).padStart(10)}  ${row.modified}  ${row.type.padEnd(24)}  ${row.key}`;
}
