/**
 * The domain's value types (and the listing positions and inline size the fronts reason with), as the fronts see them. The engine defines them (its rows carry
 * them); the fronts import them from here, so that no front imports from the engine.
 */
export type {
  Handoff,
  ObjectAttributes,
  ObjectBody,
  ObjectInfo,
  ObjectRef,
  ReadPlan,
  ReadResult,
  UploadSession,
  WriteAttributes,
  WriteCondition,
} from '../backends/backend.js';
export type { BlobLocation } from '../backends/blob-store.js';
export type { FolderPage, ListEntry } from '../backends/folder-listing.js';
/** Values up to this size are held in the index row itself (read with the lookup). */
export { INLINE_MAX_BYTES } from '../backends/indexed-backend.js';
/** Positions in a listing's byte order (keys are compared as UTF-8 bytes): where a page resumes. */
export { keyAfter, prefixUpperBound } from '../backends/key-range.js';
export type { VersionRow } from '../backends/object-index.js';
export type { ChosenFields, ContentFields, ObjectAcl, S3ChecksumAttribute as ChecksumAttribute } from './object-attributes.js';
/** The typed fields of attributes' two groups (what describes the bytes, and the rest of what the writer chose). */
export { chosenOf, contentOf, withChosen, withContent } from './object-attributes.js';
