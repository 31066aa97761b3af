import { open, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fail } from '../../errors.js';

export interface DiskSpaceOptions {
  /** Writes are refused (507) when they would leave less than this free. */
  readonly minFreeBytes: number;
  /** Size of the ballast file released when a delete finds the disk full. */
  readonly ballastBytes: number;
}

const REFRESH_MS = 500;
const BALLAST_CHUNK = 1024 * 1024;

/**
 * Keeps the data directory's disk from filling up, and recoverable when it does anyway.
 *
 * Writes are refused with 507 InsufficientStorage while free space is below `minFreeBytes`, so
 * the index always has room to record deletes, and deletes are how space comes back. When the
 * disk is filled from outside (another process, logs), a ballast file held in the data dir is
 * released so that SQLite can still commit deletes, and it is put back once space returns (the
 * ballast-file technique of CockroachDB).
 */
export class DiskSpace {
  private readonly ballast: string;
  private free = Number.POSITIVE_INFINITY;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly options: DiskSpaceOptions,
  ) {
    this.ballast = path.join(dataDir, 'ballast');
  }

  /** Measures the disk and lays the ballast down if there is room for it. */
  async init(): Promise<void> {
    await this.refresh();
  }

  /** Throws 507 when a write of `bytes` (or of unknown size) would eat into the reserve. */
  async assertRoomFor(bytes: number | undefined): Promise<void> {
    if (performance.now() - this.checkedAt > REFRESH_MS) await this.refresh();
    if (this.free - (bytes ?? 0) < this.options.minFreeBytes) throw this.full();
    // Until the next reading, count the admitted write as spent, so a burst of writes between
    // two readings cannot run past the reserve.
    this.free -= bytes ?? 0;
  }

  /** For readiness: throws while free space is below the reserve. */
  async assertReady(): Promise<void> {
    await this.refresh();
    if (this.free < this.options.minFreeBytes) throw this.full();
  }

  /** Frees the ballast so a delete can commit on a full disk; true if there was one to free. */
  async releaseBallast(): Promise<boolean> {
    const existed = await fileSize(this.ballast);
    if (existed === 0) return false;
    await rm(this.ballast, { force: true });
    this.checkedAt = Number.NEGATIVE_INFINITY;
    return true;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const fs = await statfs(this.dataDir);
        this.free = fs.bavail * fs.bsize;
        this.checkedAt = performance.now();
        await this.restoreBallast();
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** Puts the ballast back once it fits above the reserve; a failure just leaves it missing. */
  private async restoreBallast(): Promise<void> {
    const { ballastBytes, minFreeBytes } = this.options;
    if (ballastBytes === 0) return;
    const present = await fileSize(this.ballast);
    if (present >= ballastBytes || this.free - (ballastBytes - present) < minFreeBytes) return;
    const file = await open(this.ballast, 'a', 0o600);
    try {
      const zeros = Buffer.alloc(BALLAST_CHUNK);
      // Real blocks, not a sparse file: a hole would free nothing when it is removed.
      for (let size = present; size < ballastBytes; size += BALLAST_CHUNK) {
        await file.write(zeros, 0, Math.min(BALLAST_CHUNK, ballastBytes - size));
      }
      await file.sync();
      this.free -= ballastBytes - present;
    } catch {
      await rm(this.ballast, { force: true });
    } finally {
      await file.close();
    }
  }

  private full() {
    return fail(
      'InsufficientStorage',
      `The data directory has ${this.free} bytes free, below the reserve of ${this.options.minFreeBytes} (STOWAGE_MIN_FREE_SPACE); delete objects to free space`,
    );
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}
