import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';

/** The flexible checksum algorithms an object may carry (S3's names). */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** A checksum an object or part carries: base64 of the big-endian digest (a composite one ends in `-N`). */
export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly type: ChecksumType;
  readonly value: string;
}

export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

/**
 * Part checksums combine into a whole-object one only for the CRCs (their values compose
 * arithmetically), and into a checksum of checksums only for the algorithms S3 has always done
 * so for: CRC64NVME is full-object only, the SHAs composite only.
 */
export const allowsType = (algorithm: ChecksumAlgorithm, type: ChecksumType) =>
  type === 'FULL_OBJECT' ? algorithm.startsWith('CRC') : algorithm !== 'CRC64NVME';

/** The type a multipart upload gets when its creation names an algorithm and no type. */
export const defaultType = (algorithm: ChecksumAlgorithm): ChecksumType => (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');

export interface Digest {
  update(chunk: Uint8Array): void;
  /** The big-endian digest. */
  digest(): Promise<Buffer>;
}

/** A running digest of an algorithm: node:crypto for the SHAs and CRC32, the AWS SDK's own CRC32C and CRC64NVME. */
export function newDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (chunk) => hash.update(chunk), digest: async () => hash.digest() };
    }
    case 'CRC32': {
      let value = 0;
      return { update: (chunk) => (value = crc32(chunk, value)), digest: async () => uint32Bytes(value) };
    }
    case 'CRC32C': {
      const crc = new Crc32c();
      return { update: (chunk) => crc.update(chunk), digest: async () => uint32Bytes(crc.digest()) };
    }
    case 'CRC64NVME': {
      const crc = new Crc64Nvme();
      return { update: (chunk) => crc.update(chunk), digest: async () => Buffer.from(await crc.digest()) };
    }
  }
}

function uint32Bytes(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}
