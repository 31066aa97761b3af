import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import type { BackupStore } from './backup-store.js';
import type { DamagedBlob } from './copy-blobs.js';

export const MANIFEST = 'manifest.json';
export const FORMAT = 'stowage-backup';
export const FORMAT_VERSION = 1;

/**
 * What a finished backup holds. Written last: a backup without one was interrupted (run the
 * backup again to finish it), and one is removed before a backup starts over what it describes.
 */
export interface BackupManifest {
  readonly format: typeof FORMAT;
  readonly formatVersion: number;
  /** The version of Stowage that made it. */
  readonly stowageVersion: string;
  /** `embedded`: `index.sqlite`, a copy of the SQLite index; `postgres`: `index.pgdump`, a pg_dump of the shared index. */
  readonly deployment: 'embedded' | 'postgres';
  readonly startedAt: string;
  /** When the snapshot of the index that the backup holds was taken. */
  readonly snapshotAt: string;
  readonly finishedAt: string;
  readonly index: { readonly entry: 'index.sqlite' | 'index.pgdump'; readonly bytes: number; readonly sha256: string };
  /** Object rows in the index (expired ones not yet swept included). */
  readonly objects: number;
  /** The blobs the index names; `copied` of them were written by this run, the rest were there. */
  readonly blobs: { readonly count: number; readonly bytes: number; readonly copied: number; readonly copiedBytes: number };
  /** Part files of the resumable uploads that were open (embedded deployment). */
  readonly uploads: { readonly count: number; readonly bytes: number };
  /** Whether `secret.key` (the server secret of the data directory) is in the backup. */
  readonly secretKey: boolean;
  /** Snapshots taken: more than one when blobs a snapshot named were deleted before they were copied. */
  readonly passes: number;
  /**
   * Present when the data directory did not hold every value as its index says (what fsck
   * reports as missing-blob and size-mismatch): the backup has those as they were.
   */
  readonly damage?: { readonly missing: readonly string[]; readonly sizeMismatch: readonly DamagedBlob[] };
}

/** The version in the server package's package.json (src/ and dist/ sit at the same depth). */
export function stowageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };
  return pkg.version;
}

/** The backup's manifest, or undefined when it has none (none was made there, or it was interrupted). */
export async function readManifest(store: BackupStore): Promise<BackupManifest | undefined> {
  const body = await store.read(MANIFEST);
  if (!body) return undefined;
  const manifest = JSON.parse(await text(body)) as BackupManifest;
  if (manifest.format !== FORMAT) throw new Error(`${store.location}/${MANIFEST} is not the manifest of a Stowage backup`);
  if (manifest.formatVersion > FORMAT_VERSION)
    throw new Error(
      `${store.location} was made by Stowage ${manifest.stowageVersion} in backup format ${manifest.formatVersion}; this version reads up to ${FORMAT_VERSION}`,
    );
  return manifest;
}

export async function writeManifest(store: BackupStore, manifest: BackupManifest): Promise<void> {
  const bytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  await store.write(MANIFEST, Readable.from([bytes]), bytes.length);
  await store.flush();
}
