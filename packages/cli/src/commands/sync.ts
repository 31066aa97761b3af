import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeFor } from '../content-type.js';
import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { countOf } from '../format-count.js';
import { listFiles, sha256Of, sizeOf } from '../local-tree.js';
import { createBatchProgress, type ProgressFlags, progressWanted } from '../progress.js';
import { asFolderPrefix, parseRemote, type RemotePath, UsageError } from '../remote-path.js';
import { planSync, type SyncEntry, type SyncPlan, type SyncSide } from '../sync-plan.js';
import { runBounded } from './cp.js';

interface SyncFlags extends ProgressFlags {
  delete?: boolean;
  exclude?: string[];
  dryRun?: boolean;
  sizeOnly?: boolean;
  jobs?: string;
  json?: boolean;
}

/** Keys per delete request. */
const DELETE_BATCH = 1000;

/**
 * `stowage sync SOURCE DESTINATION [--delete] [--exclude GLOB]... [--dry-run]`: makes a local folder
 * and a stored folder (`stowage://TYPE/PREFIX`) hold the same files, either way, copying only
 * what is missing or different (by size, then sha256) and with --delete removing what the source
 * lacks. Each action is one line on stdout (`upload: …`, `download: …`, `delete: …`).
 */
export async function runSync(ctx: CommandContext, [source, target]: string[], options: SyncFlags): Promise<number> {
  const from = parseRemote(source as string);
  const to = parseRemote(target as string);
  if (Boolean(from) === Boolean(to))
    throw new UsageError('sync goes between a local folder and stowage://TYPE/PREFIX (or stowage://BUCKET/PREFIX), either way');
  const jobs = Number(options.jobs ?? 8);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('-j takes a whole number of parallel transfers');
  const remote = (from ?? to) as RemotePath;
  const prefix = asFolderPrefix(remote.key);
  const localDir = path.resolve((from ? target : source) as string);
  if (!from) await requireDirectory(localDir);
  const local = await localSide(localDir);
  const stored = await remoteSide(ctx, remote, prefix);
  const plan = await planSync(from ? stored : local, from ? local : stored, {
    exclude: options.exclude ?? [],
    deleteExtra: options.delete === true,
    sizeOnly: options.sizeOnly === true,
    jobs,
  });
  const names = {
    local: (relative: string) => path.join(localDir, ...relative.split('/')),
    remote: (relative: string) => `stowage://${remote.type}/${prefix}${relative}`,
  };
  const [fromName, toName] = from ? [names.remote, names.local] : [names.local, names.remote];
  const say = (line: string) => {
    if (!options.json && !options.quiet) ctx.stdout.write(`${options.dryRun ? '(dry run) ' : ''}${line}\n`);
  };
  const verb = from ? 'download' : 'upload';
  if (options.dryRun) {
    for (const { relative } of plan.copy) say(`${verb}: ${fromName(relative)} to ${toName(relative)}`);
    for (const relative of plan.remove) say(`delete: ${toName(relative)}`);
  } else {
    const progress = createBatchProgress(progressWanted(options, ctx.showProgress), `sync ${source}`, plan.copy.length);
    try {
      await runBounded([...plan.copy], jobs, async ({ relative }) => {
        const file = progress.file();
        const localPath = names.local(relative);
        const key = prefix + relative;
        if (from) {
          // Keys are opaque and may contain `..`: never write outside the folder.
          if (!localPath.startsWith(localDir + path.sep)) throw new UsageError(`key ${key} would land outside ${localDir}`);
          await mkdir(path.dirname(localPath), { recursive: true });
          await ctx.storage.getFile(key, localPath, { storageType: remote.type, onProgress: file.update });
        } else {
          const call = { storageType: remote.type, onProgress: file.update, contentType: contentTypeFor(localPath) };
          await ctx.storage.setFile(key, localPath, call);
        }
        file.done();
        say(`${verb}: ${fromName(relative)} to ${toName(relative)}`);
      });
      await removeExtra(ctx, plan.remove, from ? { local: names.local } : { remote, prefix });
      for (const relative of plan.remove) say(`delete: ${toName(relative)}`);
    } finally {
      // The summary below says what the sync did; the bar's own would only count the copies.
      progress.stop();
    }
  }
  if (options.json) ctx.stdout.write(`${JSON.stringify(report(plan, options.dryRun === true))}\n`);
  else if (progressWanted(options, ctx.showProgress)) ctx.stderr.write(summaryLine(plan, options.dryRun === true));
  return Exit.ok;
}

async function requireDirectory(dir: string): Promise<void> {
  if (!(await stat(dir)).isDirectory()) throw new UsageError(`${dir} is not a folder: sync goes between folders (cp copies one file)`);
}

/** A local folder's files (none when it does not exist yet: a download creates it). */
async function localSide(dir: string): Promise<SyncSide> {
  const exists = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const entries = new Map<string, SyncEntry>();
  if (exists)
    for (const relative of await listFiles(dir)) {
      entries.set(relative.split(path.sep).join('/'), { size: await sizeOf(path.join(dir, relative)) });
    }
  return { entries, hash: (relative) => sha256Of(path.join(dir, ...relative.split('/'))) };
}

/** Every object under the prefix, with the size and sha256 the listing gives (no request per key). */
async function remoteSide(ctx: CommandContext, remote: RemotePath, prefix: string): Promise<SyncSide> {
  const entries = new Map<string, SyncEntry>();
  for await (const entry of ctx.storage.iterList(prefix, { storageType: remote.type, details: true })) {
    if (entry.kind !== 'object' || !entry.details) continue;
    entries.set(entry.key.slice(prefix.length), { size: entry.details.size, sha256: entry.details.sha256 });
  }
  return {
    entries,
    hash: async (relative) => {
      throw new Error(`no sha256 listed for ${prefix}${relative}`);
    },
  };
}

async function removeExtra(
  ctx: CommandContext,
  relatives: readonly string[],
  where: { local: (relative: string) => string } | { remote: RemotePath; prefix: string },
): Promise<void> {
  if ('local' in where) {
    for (const relative of relatives) await rm(where.local(relative), { force: true });
    return;
  }
  for (let at = 0; at < relatives.length; at += DELETE_BATCH) {
    const keys = relatives.slice(at, at + DELETE_BATCH).map((relative) => where.prefix + relative);
    const { results } = await ctx.storage.deleteMany(keys, { storageType: where.remote.type });
    for (const item of results) {
      // Gone already is what a delete wants.
      if (item.deleted || item.code === 'NoSuchKey') continue;
      throw new Error(`deleting ${item.key} failed: ${item.message} (${item.code})`);
    }
  }
}

function report(plan: SyncPlan, dryRun: boolean) {
  return {
    dryRun,
    copied: plan.copy.map((item) => item.relative),
    bytes: plan.copy.reduce((total, item) => total + item.size, 0),
    deleted: plan.remove,
    unchanged: plan.unchanged,
    excluded: plan.excluded,
  };
}

function summaryLine(plan: SyncPlan, dryRun: boolean): string {
  const { bytes } = report(plan, dryRun);
  const parts = [
    `${countOf(plan.copy.length, 'file')} ${dryRun ? 'to copy' : 'copied'} (${formatBytes(bytes)})`,
    `${plan.remove.length} ${dryRun ? 'to delete' : 'deleted'}`,
    `${plan.unchanged} unchanged`,
    ...(plan.excluded ? [`${plan.excluded} excluded`] : []),
  ];
  return `sync: ${parts.join(', ')}\n`;
}
