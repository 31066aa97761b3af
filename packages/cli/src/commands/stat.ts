import { NotFoundError } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';

/** `stowage stat KEY [--json]`: everything stored about KEY but its bytes (one HEAD request). */
export async function runStat(ctx: CommandContext, [key]: string[], options: { json?: boolean }): Promise<number> {
  const info = await ctx.storage.info(key as string, ctx.storageType).catch((error: unknown) => {
    // A HEAD answer has no body to say what is missing: say it as the other commands do.
    if (error instanceof NotFoundError && error.code === 'NoSuchKey')
      throw new NotFoundError(`No object at ${ctx.storageType}/${key}`, { status: 404, code: 'NoSuchKey' });
    throw error;
  });
  const report = {
    key,
    storageType: ctx.storageType,
    size: info.size,
    etag: info.etag,
    sha256: info.sha256,
    contentType: info.contentType,
    lastModified: info.lastModified.toISOString(),
    expiresAt: info.expiresAt?.toISOString() ?? null,
    cacheControl: info.cacheControl ?? null,
    contentDisposition: info.contentDisposition ?? null,
    metadata: info.metadata,
  };
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(report)}\n`);
    return Exit.ok;
  }
  const lines = [
    ['key', report.key],
    ['storage type', report.storageType],
    ['size', `${report.size} bytes (${formatBytes(report.size)})`],
    ['etag', report.etag],
    ['sha256', report.sha256],
    ['content type', report.contentType],
    ['last modified', report.lastModified],
    ['expires', report.expiresAt ?? 'never'],
    ['cache control', report.cacheControl ?? ''],
    ['content disposition', report.contentDisposition ?? ''],
    ...Object.entries(report.metadata).map(([name, value]) => [`meta ${name}`, value]),
  ];
  const width = Math.max(...lines.map(([label]) => (label as string).length));
  for (const [label, value] of lines) ctx.stdout.write(`${`${label}:`.padEnd(width + 2)}${value}\n`);
  return Exit.ok;
}
