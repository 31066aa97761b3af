/**
 * The domain's value types, as the fronts see them. The engine defines them (its rows carry
 * them); the fronts import them from here, so that no front imports from the engine.
 */
export type {
  ObjectAttributes,
  ObjectBody,
  ObjectInfo,
  ObjectRef,
  ReadPlan,
  ReadResult,
  S3ChecksumAttribute as ChecksumAttribute,
  UploadSession,
  WriteAttributes,
  WriteCondition,
} from '../backends/backend.js';
