/** Exit codes of `stowage backup` and `stowage restore-backup`. */
export const BackupExit = {
  /** Done: the backup (or the restored data directory) is complete. */
  ok: 0,
  /** Refused before anything was done: bad arguments, the wrong deployment, a data directory that is not empty. */
  usage: 2,
  /** Done, but some stored values were missing or damaged at the source: the copy has them as they were. */
  damage: 3,
  /** Could not finish (an I/O error, a store that does not answer): run it again to finish it. */
  failed: 4,
} as const;

/** A backup or restore that was refused or could not finish; `exitCode` is one of {@link BackupExit}. */
export class BackupError extends Error {
  override name = 'BackupError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
