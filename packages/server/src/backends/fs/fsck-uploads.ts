import { rm } from 'node:fs/promises';
import path from 'node:path';
import { addFinding, changedAt, type FsckContext, relativeTo, removeLeftover, statIfExists } from './fsck-context.js';
import { readdirIfExists } from './fsck-files.js';

interface SessionToCheck {
  upload_id: string;
  received: number;
  expires_at: number;
  completed: 0 | 1;
}

const PAGE = 500;

/**
 * Checks resumable upload sessions against their part files: sessions past their expiry (the
 * sweeper's job, undone while the server was down), open sessions whose part file holds fewer
 * bytes than the offset they report (bytes lost by a crash of the machine), and completed ones
 * whose part file remains.
 */
export async function checkUploadSessions(ctx: FsckContext): Promise<void> {
  const page = ctx.db.prepare(
    `SELECT upload_id, received, expires_at, completed_json IS NOT NULL AS completed FROM uploads
     WHERE upload_id > ? ORDER BY upload_id LIMIT ?`,
  );
  const currentReceived = ctx.db.prepare('SELECT received FROM uploads WHERE upload_id = ? AND completed_json IS NULL').pluck();
  for (let after = ''; ; ) {
    const sessions = page.all(after, PAGE) as SessionToCheck[];
    for (const session of sessions) {
      ctx.counts.sessions++;
      const part = partPathOf(ctx, session.upload_id);
      if (session.expires_at <= ctx.now && ctx.settled(session.expires_at)) {
        const finding = addFinding(ctx, {
          kind: 'expired-session',
          uploadId: session.upload_id,
          message: `the upload URL expired at ${new Date(session.expires_at).toISOString()}`,
        });
        await removeSession(ctx, session.upload_id, part);
        if (ctx.repair) finding.repaired = 'removed the session and its part file';
        continue;
      }
      const stats = part ? await statIfExists(part) : undefined;
      if (session.completed) {
        if (!part || !stats || !ctx.settled(changedAt(stats))) continue;
        const finding = addFinding(ctx, {
          kind: 'stale-part',
          file: relativeTo(ctx, part),
          uploadId: session.upload_id,
          message: 'the upload completed but its part file remains',
        });
        await removeLeftover(ctx, finding, part);
        continue;
      }
      const held = stats?.size ?? 0;
      // Appends grow the part before the offset moves, so a live server never shows a short part.
      if (held >= session.received || currentReceived.get(session.upload_id) !== session.received) continue;
      const finding = addFinding(ctx, {
        kind: 'short-part',
        file: part && relativeTo(ctx, part),
        uploadId: session.upload_id,
        message: stats
          ? `the part file holds ${held} bytes, the session reports ${session.received}`
          : `the part file is missing, the session reports ${session.received} bytes`,
      });
      if (ctx.repair) {
        ctx.db
          .prepare('UPDATE uploads SET received = ? WHERE upload_id = ? AND received = ?')
          .run(held, session.upload_id, session.received);
        finding.repaired = `offset set to ${held}: the client resends from there`;
      }
    }
    const last = sessions.at(-1);
    if (!last || sessions.length < PAGE) return;
    after = last.upload_id;
  }
}

/** Part files under uploads/ whose session is gone (start-up removes them). */
export async function checkPartFiles(ctx: FsckContext): Promise<void> {
  const session = ctx.db.prepare('SELECT 1 FROM uploads WHERE upload_id = ?').pluck();
  for (const name of await readdirIfExists(ctx.files.partDir)) {
    const file = path.join(ctx.files.partDir, name);
    const stats = await statIfExists(file);
    if (!stats) continue;
    ctx.counts.partFiles++;
    if (session.get(name) !== undefined || !ctx.settled(changedAt(stats))) continue;
    const finding = addFinding(ctx, { kind: 'stale-part', file: relativeTo(ctx, file), message: 'no upload session owns this part file' });
    await removeLeftover(ctx, finding, file);
  }
}

async function removeSession(ctx: FsckContext, uploadId: string, part: string | undefined): Promise<void> {
  if (!ctx.repair) return;
  ctx.db.prepare('DELETE FROM uploads WHERE upload_id = ?').run(uploadId);
  if (part) await rm(part, { force: true });
}

function partPathOf(ctx: FsckContext, uploadId: string): string | undefined {
  try {
    return ctx.files.partPath(uploadId);
  } catch {
    return undefined; // not an id the server makes: it can have no part file
  }
}
