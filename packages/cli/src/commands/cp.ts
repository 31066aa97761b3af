import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { contentTypeFor } from '../content-type.js';
import { type CommandContext, Exit } from '../context.js';
import { listFiles } from '../local-tree.js';
import { createBatchProgress, createProgress, type ProgressFlags, progressWanted } from '../progress.js';
import { parseRemote, type RemotePath, UsageError } from '../remote-path.js';
import { transferOnServer } from './mv.js';

/**
 * `stowage cp SRC DST [-r] [-j N]` between local paths and `stowage://TYPE/KEY` (TYPE: a storage type or a bucket), either way.
 * With -r a directory becomes keys under the prefix (and back), N transfers at a time. Between two
 * `stowage://` paths the server copies, a key or with -r every key under a prefix.
 */
export async function runCp(
  ctx: CommandContext,
  [source, target]: string[],
  options: { recursive?: boolean; jobs?: string } & ProgressFlags,
): Promise<number> {
  const from = parseRemote(source as string);
  const to = parseRemote(target as string);
  // Both remote: the server copies (no bytes travel), replacing what is there as any cp does.
  if (from && to) return transferOnServer(ctx, 'copy', from, to, { recursive: options.recursive, overwrite: true });
  if (!from && !to)
    throw new UsageError(
      'cp copies between a local path and stowage://TYPE/KEY (or stowage://BUCKET/KEY), or between two stowage:// paths; give at least one of those',
    );
  const jobs = Number(options.jobs ?? 8);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('-j takes a whole number of parallel transfers');
  const tasks = to
    ? await uploads(source as string, to, options.recursive)
    : await downloads(ctx, from as RemotePath, target as string, options.recursive);
  const wanted = progressWanted(options, ctx.showProgress);
  // One file: its bytes; a tree: its files, with the bytes moved.
  const single = options.recursive ? undefined : createProgress(wanted, `cp ${source}`);
  const batch = options.recursive ? createBatchProgress(wanted, `cp ${source}`, tasks.length) : undefined;
  const transfer = async (task: Task) => {
    const file = batch?.file();
    const call = { storageType: task.remote.type, onProgress: file?.update ?? single?.update };
    if (to) await ctx.storage.setFile(task.remote.key, task.local, { ...call, contentType: contentTypeFor(task.local) });
    else {
      await mkdir(path.dirname(task.local), { recursive: true });
      await ctx.storage.getFile(task.remote.key, task.local, call);
    }
    file?.done();
  };
  try {
    await runBounded(tasks, jobs, transfer);
    (batch ?? single)?.finish();
  } finally {
    (batch ?? single)?.stop();
  }
  return Exit.ok;
}

interface Task {
  local: string;
  remote: RemotePath;
}

async function uploads(local: string, to: RemotePath, recursive: boolean | undefined): Promise<Task[]> {
  if (!(await stat(local)).isDirectory())
    return [{ local, remote: to.key === '' || to.key.endsWith('/') ? { ...to, key: to.key + path.basename(local) } : to }];
  if (!recursive) throw new UsageError(`${local} is a directory; use -r`);
  const prefix = to.key === '' || to.key.endsWith('/') ? to.key : `${to.key}/`;
  return (await listFiles(local)).map((relative) => ({
    local: path.join(local, relative),
    remote: { ...to, key: prefix + relative.split(path.sep).join('/') },
  }));
}

async function downloads(ctx: CommandContext, from: RemotePath, local: string, recursive: boolean | undefined): Promise<Task[]> {
  if (!recursive) {
    const isDir = await stat(local).then(
      (s) => s.isDirectory(),
      () => false,
    );
    return [{ local: isDir ? path.join(local, path.posix.basename(from.key)) : local, remote: from }];
  }
  const prefix = from.key === '' || from.key.endsWith('/') ? from.key : `${from.key}/`;
  const tasks: Task[] = [];
  for await (const key of ctx.storage.iterList(prefix, from.type)) {
    const relative = key.slice(prefix.length);
    const target = path.resolve(local, ...relative.split('/'));
    // Keys are opaque and may contain `..`: never write outside the target directory.
    if (!target.startsWith(path.resolve(local) + path.sep)) throw new UsageError(`key ${key} would land outside ${local}`);
    tasks.push({ local: target, remote: { type: from.type, key } });
  }
  return tasks;
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure stops new work. */
export async function runBounded<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
