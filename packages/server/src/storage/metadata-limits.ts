import { METADATA_LIMITS } from 'stowage-client/protocol';

/**
 * The limits of user metadata, the same for every front (METADATA_LIMITS of the protocol module,
 * S3's own): a name of 1 to 64 of a-z 0-9 - _, and 2 KiB of names and values together in UTF-8.
 * Each front refuses what breaks them with its own error.
 */
const NAME = new RegExp(`^[a-z0-9_-]{1,${METADATA_LIMITS.nameBytes}}$`);

export function isMetadataName(name: string): boolean {
  return NAME.test(name);
}

/** The bytes of names and values together when they exceed the limit; undefined when they fit. */
export function metadataOverLimit(metadata: Readonly<Record<string, string>>): number | undefined {
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes > METADATA_LIMITS.totalBytes ? bytes : undefined;
}
