// The light entry of the server package: configuration and units only. The CLI loads it for
// every command; the server itself (Fastify, SQLite, the AWS SDK) loads only for `serve` and
// the admin commands.

export { FsckExit } from './backends/fs/fsck-findings.js';
export {
  type BlobsConfig,
  ConfigError,
  type ConfigOverrides,
  type IndexConfig,
  loadConfig,
  parseScaleOutStorage,
  type ServerConfig,
} from './config.js';
export { parseByteSize, parseDuration } from './units.js';
