/**
 * The `Range` header a resumable upload's 308 (or 409) carries. The engine attaches it to its
 * offset-mismatch error, the v1 front to its answers: one definition, the engine's.
 */
export { rangeHeader } from '../backends/upload-range.js';
