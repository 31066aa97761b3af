import { createHash, type Hash } from 'node:crypto';
import type { IncrementalSha256, Sha256Factory } from '../sha256.js';

/** node:crypto's SHA-256, several times faster than the JavaScript one. */
class NodeSha256 implements IncrementalSha256 {
  constructor(private readonly hash: Hash = createHash('sha256')) {}

  update(bytes: Uint8Array): this {
    this.hash.update(bytes);
    return this;
  }

  digestHex(): string {
    return this.hash.digest('hex');
  }

  copy(): NodeSha256 {
    return new NodeSha256(this.hash.copy());
  }
}

export const nodeSha256: Sha256Factory = () => new NodeSha256();
