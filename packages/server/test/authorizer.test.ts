// The one authorization decision, table-tested: every role × every action, at keys inside and
// outside a prefix grant, with policies (Deny wins) and the public access block. The expected
// answers are written out from the table in docs/concepts.md, not computed by the code under test.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AccessRequest, authorize } from '../src/storage/authorizer.js';
import {
  type Action,
  type BucketSettings,
  EMPTY_BUCKET_SETTINGS,
  type Grant,
  type PolicyStatement,
  type Principal,
} from '../src/storage/bucket-model.js';

const OWNER = 'olivia';
const ACTIONS: Action[] = [
  'object:read',
  'object:write',
  'object:delete',
  'object:read-acl',
  'object:write-acl',
  'bucket:list',
  'bucket:read-acl',
  'bucket:write-acl',
  'bucket:configure',
  'bucket:delete',
];
const user = (id: string): Principal => ({ kind: 'user', id });
const anonymous: Principal = { kind: 'anonymous' };

/** docs/concepts.md, "What each permission allows". R = object:read+list, W = write+delete, … */
const ALLOWS: Record<string, string> = {
  READ: 'object:read bucket:list',
  WRITE: 'object:write object:delete',
  READ_ACP: 'object:read-acl bucket:read-acl',
  WRITE_ACP: 'object:write-acl bucket:write-acl',
  FULL_CONTROL: 'object:read bucket:list object:write object:delete object:read-acl bucket:read-acl object:write-acl bucket:write-acl',
};

function decide(principal: Principal, action: Action, key: string, settings: Partial<BucketSettings>, objectGrants?: Grant[]) {
  const request: AccessRequest = {
    principal,
    action,
    owner: OWNER,
    settings: { ...EMPTY_BUCKET_SETTINGS, ...settings },
    key,
    objectGrants,
  };
  return authorize(request);
}
const allowed = (...args: Parameters<typeof decide>) => decide(...args).allowed;

describe('authorize: roles × actions', () => {
  test('the owner may do everything; nobody else anything, without grants', () => {
    for (const action of ACTIONS) {
      assert.equal(allowed(user(OWNER), action, 'a/b', {}), true, action);
      for (const other of [user('mallory'), anonymous]) {
        const decision = decide(other, action, 'a/b', {});
        assert.deepEqual(decision, { allowed: false, denial: 'implicit' }, `${JSON.stringify(other)} ${action}`);
      }
    }
  });

  for (const [permission, list] of Object.entries(ALLOWS)) {
    test(`a bucket-wide ${permission} grant to a user allows exactly: ${list}`, () => {
      const grants: Grant[] = [{ grantee: { kind: 'user', id: 'bob' }, permission: permission as Grant['permission'], prefix: '' }];
      for (const action of ACTIONS) {
        assert.equal(allowed(user('bob'), action, 'any/key', { grants }), list.split(' ').includes(action), `bob ${action}`);
        assert.equal(allowed(user('carol'), action, 'any/key', { grants }), false, `carol ${action}`);
        assert.equal(allowed(anonymous, action, 'any/key', { grants }), false, `anonymous ${action}`);
      }
    });

    test(`a ${permission} grant of a prefix covers the keys under it only, and never the bucket's own ACL`, () => {
      const grants: Grant[] = [{ grantee: { kind: 'user', id: 'bob' }, permission: permission as Grant['permission'], prefix: 'results/' }];
      for (const action of ACTIONS) {
        const granted = list.split(' ').includes(action);
        const bucketWide = action === 'bucket:read-acl' || action === 'bucket:write-acl';
        assert.equal(allowed(user('bob'), action, 'results/run-1/out.csv', { grants }), granted && !bucketWide, `inside ${action}`);
        assert.equal(allowed(user('bob'), action, 'results', { grants }), false, `the prefix without its slash, ${action}`);
        assert.equal(allowed(user('bob'), action, 'raw/in.csv', { grants }), false, `outside ${action}`);
      }
    });
  }

  test('groups: everyone includes anonymous callers, authenticated does not', () => {
    const everyone: Grant[] = [{ grantee: { kind: 'everyone' }, permission: 'READ', prefix: '' }];
    const authenticated: Grant[] = [{ grantee: { kind: 'authenticated' }, permission: 'READ', prefix: '' }];
    assert.equal(allowed(anonymous, 'object:read', 'k', { grants: everyone }), true);
    assert.equal(allowed(user('x'), 'bucket:list', 'k', { grants: everyone }), true);
    assert.equal(allowed(anonymous, 'object:write', 'k', { grants: everyone }), false);
    assert.equal(allowed(anonymous, 'object:read', 'k', { grants: authenticated }), false);
    assert.equal(allowed(user('x'), 'object:read', 'k', { grants: authenticated }), true);
  });

  test('no grant or policy gives bucket:configure or bucket:delete', () => {
    const grants: Grant[] = [{ grantee: { kind: 'user', id: 'bob' }, permission: 'FULL_CONTROL', prefix: '' }];
    const policy = policyOf([
      { effect: 'Allow', principals: '*', actions: ['s3:*'], resources: [{ kind: 'bucket' }, { kind: 'objects', prefix: '' }] },
    ]);
    for (const action of ['bucket:configure', 'bucket:delete'] as const) {
      assert.equal(allowed(user('bob'), action, '', { grants, policy }), false);
      assert.equal(allowed(anonymous, action, '', { grants, policy }), false);
    }
  });
});

describe('authorize: bucket policies', () => {
  const publicRead = statement({
    effect: 'Allow',
    principals: '*',
    actions: ['s3:GetObject'],
    resources: [{ kind: 'objects', prefix: 'public/' }],
  });

  test('an Allow for everyone opens its actions under its resources, nothing else', () => {
    const policy = policyOf([publicRead]);
    assert.equal(allowed(anonymous, 'object:read', 'public/index.html', { policy }), true);
    assert.equal(allowed(anonymous, 'object:read', 'private/x', { policy }), false);
    assert.equal(allowed(anonymous, 'bucket:list', 'public/', { policy }), false);
    assert.equal(allowed(anonymous, 'object:write', 'public/x', { policy }), false);
  });

  test('s3:ListBucket is allowed by a statement on the bucket, not on its objects', () => {
    const onBucket = policyOf([
      statement({ effect: 'Allow', principals: ['bob'], actions: ['s3:ListBucket'], resources: [{ kind: 'bucket' }] }),
    ]);
    const onObjects = policyOf([
      statement({ effect: 'Allow', principals: ['bob'], actions: ['s3:ListBucket'], resources: [{ kind: 'objects', prefix: '' }] }),
    ]);
    assert.equal(allowed(user('bob'), 'bucket:list', 'any/', { policy: onBucket }), true);
    assert.equal(allowed(user('bob'), 'bucket:list', 'any/', { policy: onObjects }), false);
    assert.equal(allowed(user('carol'), 'bucket:list', 'any/', { policy: onBucket }), false);
  });

  test('a Deny wins over grants, Allows and ownership of objects; never over the owner managing the bucket', () => {
    const deny = statement({
      effect: 'Deny',
      principals: '*',
      actions: ['s3:DeleteObject', 's3:PutObject'],
      resources: [{ kind: 'objects', prefix: 'locked/' }],
    });
    const grants: Grant[] = [{ grantee: { kind: 'user', id: 'bob' }, permission: 'FULL_CONTROL', prefix: '' }];
    const allowAll = statement({ effect: 'Allow', principals: ['bob'], actions: ['s3:*'], resources: [{ kind: 'objects', prefix: '' }] });
    const settings = { grants, policy: policyOf([allowAll, deny]) };
    assert.deepEqual(decide(user('bob'), 'object:delete', 'locked/a', settings), { allowed: false, denial: 'explicit' });
    assert.deepEqual(decide(user(OWNER), 'object:write', 'locked/a', settings), { allowed: false, denial: 'explicit' });
    assert.deepEqual(decide(anonymous, 'object:write', 'locked/a', settings), { allowed: false, denial: 'explicit' });
    assert.equal(allowed(user('bob'), 'object:delete', 'open/a', settings), true);
    assert.equal(allowed(user('bob'), 'object:read', 'locked/a', settings), true);
    for (const action of ['bucket:configure', 'bucket:delete', 'bucket:read-acl', 'bucket:write-acl'] as const)
      assert.equal(allowed(user(OWNER), action, '', settings), true, action);
  });
});

describe('authorize: public access block and object ACLs', () => {
  const everyoneReads: Grant[] = [{ grantee: { kind: 'everyone' }, permission: 'READ', prefix: '' }];
  const bobReads: Grant[] = [{ grantee: { kind: 'user', id: 'bob' }, permission: 'READ', prefix: '' }];
  const block = (flags: Partial<NonNullable<BucketSettings['publicAccessBlock']>>) => ({
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
    ...flags,
  });

  test('IgnorePublicAcls makes public grants give nothing; grants to users still count', () => {
    const settings = { grants: [...everyoneReads, ...bobReads], publicAccessBlock: block({ ignorePublicAcls: true }) };
    assert.equal(allowed(anonymous, 'object:read', 'k', settings), false);
    assert.equal(allowed(user('carol'), 'object:read', 'k', settings), false);
    assert.equal(allowed(user('bob'), 'object:read', 'k', settings), true);
    assert.equal(allowed(anonymous, 'object:read', 'k', { ...settings, publicAccessBlock: block({}) }), true);
  });

  test('RestrictPublicBuckets makes Allow statements for everyone give nothing', () => {
    const policy = policyOf([
      statement({ effect: 'Allow', principals: '*', actions: ['s3:GetObject'], resources: [{ kind: 'objects', prefix: '' }] }),
    ]);
    assert.equal(allowed(anonymous, 'object:read', 'k', { policy, publicAccessBlock: block({ restrictPublicBuckets: true }) }), false);
    assert.equal(allowed(anonymous, 'object:read', 'k', { policy, publicAccessBlock: block({ ignorePublicAcls: true }) }), true);
  });

  test("an object's own grants allow reading it, and are ignored under IgnorePublicAcls", () => {
    const objectGrants: Grant[] = [{ grantee: { kind: 'everyone' }, permission: 'READ', prefix: '' }];
    assert.equal(allowed(anonymous, 'object:read', 'photo.jpg', {}, objectGrants), true);
    assert.equal(allowed(anonymous, 'object:write', 'photo.jpg', {}, objectGrants), false);
    assert.equal(
      allowed(anonymous, 'object:read', 'photo.jpg', { publicAccessBlock: block({ ignorePublicAcls: true }) }, objectGrants),
      false,
    );
  });
});

function statement(fields: Omit<PolicyStatement, 'sid'>): PolicyStatement {
  return { sid: undefined, ...fields };
}

function policyOf(statements: PolicyStatement[]): BucketSettings['policy'] {
  return { text: JSON.stringify({ Statement: statements }), statements };
}
