export { type ApiKeyStore, createApiKey, verifyApiKey } from './auth/api-keys.js';
export { TokenService } from './auth/token-service.js';
export type { Backend, ObjectInfo } from './backends/backend.js';
export { ConfigError, type ConfigOverrides, defineConfig, loadConfig, type ServerConfig } from './config.js';
export { ERRORS, type ErrorCode, StowageError } from './errors.js';
export { serve } from './main.js';
export { createServer, openStorage, type ServerDependencies, type StowageServer } from './server.js';
export { parseByteSize, parseDuration } from './units.js';
