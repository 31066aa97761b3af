/**
 * Crash points for durability testing, in the manner of FreeBSD's fail(9) and TiKV's fail-rs:
 * `STOWAGE_FAILPOINTS=upload.after-link` (or `name@3`: on the third time it is reached) makes the
 * process SIGKILL itself at that named step, so tests can prove that a crash there loses nothing.
 * Unset (always, in production), a failpoint is one Map lookup.
 */
export type Failpoint = (name: FailpointName) => void;

/** Every step a crash test can stop the server at. */
export const FAILPOINTS = [
  'write.after-blob',
  'write.after-commit',
  'delete.after-commit',
  'upload.after-append',
  'upload.after-link',
  'upload.after-commit',
  'batch.after-step',
  'backup.after-blob',
  /** stowage migrate: a blob was copied to the destination, the rows naming it not yet. */
  'migrate.after-blob',
] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

/** Parses `name[@n],name[@n]`; throws on an unknown name so a typo cannot silently test nothing. */
export function parseFailpoints(spec: string): ReadonlyMap<FailpointName, number> {
  const points = new Map<FailpointName, number>();
  for (const item of spec
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name = '', count = '1'] = item.split('@');
    if (!(FAILPOINTS as readonly string[]).includes(name)) throw new Error(`unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`);
    if (!/^[1-9][0-9]*$/.test(count)) throw new Error(`failpoint "${item}": the count after @ must be a positive integer`);
    points.set(name as FailpointName, Number(count));
  }
  return points;
}

/** A failpoint function for `points`: kills the process the n-th time a named step is reached. */
export function createFailpoint(points: ReadonlyMap<FailpointName, number>): Failpoint {
  if (points.size === 0) return () => {};
  const hits = new Map<FailpointName, number>();
  return (name) => {
    const target = points.get(name);
    if (target === undefined) return;
    const hit = (hits.get(name) ?? 0) + 1;
    hits.set(name, hit);
    if (hit === target) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Steps where a test can hold one request while it runs another, so that a race between two
 * requests is played in one chosen order instead of left to timing. The server awaits its
 * `PausePoint` there; none is given in production, and the step goes on at once.
 */
export const PAUSE_POINTS = [
  /** S3 CompleteMultipartUpload: the parts were checked against the request, none read yet. */
  'multipart.after-check',
  /** S3 CopyObject and UploadPartCopy: about to read the source they copy. */
  'copy.before-copy',
] as const;
export type PausePointName = (typeof PAUSE_POINTS)[number];
/** Resolves when the step may go on. */
export type PausePoint = (name: PausePointName) => Promise<void>;

/** The pause point of a server no test holds: every step goes on at once. */
export const noPause: PausePoint = async () => {};
