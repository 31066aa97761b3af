import { isPublicGrantee } from './authorizer.js';
import type { BucketPolicy, BucketSettings } from './bucket-model.js';

/**
 * Whether a bucket gives anything to callers it does not name: a grant to everyone or to all
 * authenticated users, or a policy statement allowing '*', that its public access block leaves in
 * force. S3's GetBucketPolicyStatus asks of the policy alone (`isPublicPolicy`).
 */
export function isPublicBucket(settings: BucketSettings): boolean {
  const block = settings.publicAccessBlock;
  const publicGrant = !block?.ignorePublicAcls && settings.grants.some((grant) => isPublicGrantee(grant.grantee));
  return publicGrant || (!block?.restrictPublicBuckets && isPublicPolicy(settings.policy));
}

/** Whether a policy makes its bucket public: a statement allows everyone (there is no Condition to narrow it). */
export function isPublicPolicy(policy: BucketPolicy | null): boolean {
  return policy?.statements.some((statement) => statement.effect === 'Allow' && statement.principals === '*') ?? false;
}
