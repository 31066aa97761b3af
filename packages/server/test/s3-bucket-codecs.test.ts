// The S3 front's codecs of bucket settings, without a server: ACL headers and documents, bucket
// policies, lifecycle rules, public access blocks and ListBuckets pages. Round-trips through the
// XML an answer carries, and the refusals S3 answers with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { accessControlPolicyBody, parseAccessControlPolicy } from '../src/s3/acl-xml.js';
import { parseBucketPolicy, policyStatusBody } from '../src/s3/bucket-policy.js';
import { S3Error, type S3ErrorCode } from '../src/s3/errors.js';
import { grantsFromHeaders } from '../src/s3/grant-headers.js';
import { lifecycleConfigurationBody, noncurrentDaysOf, parseLifecycleConfiguration } from '../src/s3/lifecycle-xml.js';
import { decodeBucketsToken, encodeBucketsToken, listAllMyBucketsBody, parseListBucketsQuery } from '../src/s3/list-buckets.js';
import { parsePublicAccessBlock, publicAccessBlockBody } from '../src/s3/public-access-block-xml.js';
import { xmlDocument } from '../src/s3/xml.js';
import { isPublicGrantee } from '../src/storage/authorizer.js';
import type { Grant, LifecycleRule } from '../src/storage/bucket-model.js';
import { isPublicPolicy } from '../src/storage/public-buckets.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** Runs `fn`, which must throw the S3 error `code` (with a message matching `message`). */
function assertS3Error(fn: () => unknown, code: S3ErrorCode, message?: RegExp): S3Error {
  let error: unknown;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof S3Error, `expected ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (message) assert.match(error.message, message);
  return error;
}

describe('ACL headers', () => {
  test('no ACL header: undefined, so the caller keeps its default', () => {
    assert.equal(grantsFromHeaders({ 'content-type': 'text/plain' }, ''), undefined);
  });

  test('canned ACLs: the owner is implicit, public ones grant to the groups', () => {
    const grants = (acl: string) => grantsFromHeaders({ 'x-amz-acl': acl }, 'photos/a.jpg');
    assert.deepEqual(grants('private'), []);
    assert.deepEqual(grants('public-read'), [{ grantee: { kind: 'everyone' }, permission: 'READ', prefix: 'photos/a.jpg' }]);
    assert.deepEqual(grants('public-read-write'), [
      { grantee: { kind: 'everyone' }, permission: 'READ', prefix: 'photos/a.jpg' },
      { grantee: { kind: 'everyone' }, permission: 'WRITE', prefix: 'photos/a.jpg' },
    ]);
    assert.deepEqual(grants('authenticated-read'), [{ grantee: { kind: 'authenticated' }, permission: 'READ', prefix: 'photos/a.jpg' }]);
    // The bucket owner's rights are implicit too.
    assert.deepEqual(grants('bucket-owner-read'), []);
    assert.deepEqual(grants('bucket-owner-full-control'), []);
  });

  test('canned ACLs for AWS services are NotImplemented; unknown ones InvalidArgument', () => {
    assertS3Error(() => grantsFromHeaders({ 'x-amz-acl': 'log-delivery-write' }, ''), 'NotImplemented', /log-delivery-write/);
    assertS3Error(() => grantsFromHeaders({ 'x-amz-acl': 'aws-exec-read' }, ''), 'NotImplemented');
    const error = assertS3Error(() => grantsFromHeaders({ 'x-amz-acl': 'public' }, ''), 'InvalidArgument', /not a canned ACL/);
    assert.equal(error.details.ArgumentName, 'x-amz-acl');
  });

  test('explicit grants: ids and group URIs, quoted or not, with the permission of their header', () => {
    const grants = grantsFromHeaders(
      {
        'x-amz-grant-read': `id="alice", uri="${ALL_USERS}"`,
        'x-amz-grant-write': 'id=bob',
        'x-amz-grant-read-acp': `uri="${AUTHENTICATED_USERS}"`,
        'x-amz-grant-write-acp': 'id="carol"',
        'x-amz-grant-full-control': 'ID = "dave, the admin"',
      },
      'p/',
    );
    assert.deepEqual(grants, [
      { grantee: { kind: 'user', id: 'alice' }, permission: 'READ', prefix: 'p/' },
      { grantee: { kind: 'everyone' }, permission: 'READ', prefix: 'p/' },
      { grantee: { kind: 'user', id: 'bob' }, permission: 'WRITE', prefix: 'p/' },
      { grantee: { kind: 'authenticated' }, permission: 'READ_ACP', prefix: 'p/' },
      { grantee: { kind: 'user', id: 'carol' }, permission: 'WRITE_ACP', prefix: 'p/' },
      { grantee: { kind: 'user', id: 'dave, the admin' }, permission: 'FULL_CONTROL', prefix: 'p/' },
    ]);
  });

  test("grants to the owner are implicit and left out, repeats kept once; a repeated header's values all count", () => {
    const grants = grantsFromHeaders({ 'x-amz-grant-read': ['id="owner", id="alice"', 'id="alice", id="bob"'] }, '', 'owner');
    assert.deepEqual(
      grants?.map((grant) => grant.grantee),
      [
        { kind: 'user', id: 'alice' },
        { kind: 'user', id: 'bob' },
      ],
    );
  });

  test('a canned ACL and grant headers together: InvalidRequest, as S3 answers', () => {
    assertS3Error(
      () => grantsFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': 'id="alice"' }, ''),
      'InvalidRequest',
      /both Canned ACLs and Header Grants/,
    );
  });

  test('grants by e-mail address cannot be resolved: users are named by id', () => {
    assertS3Error(() => grantsFromHeaders({ 'x-amz-grant-read': 'emailAddress="a@example.com"' }, ''), 'UnresolvableGrantByEmailAddress');
  });

  test('malformed grants are InvalidArgument naming the header; LogDelivery is NotImplemented', () => {
    for (const value of ['', 'alice', 'id=', 'name="alice"', `uri="${ALL_USERS}x"`, 'id="a" id="b"', 'id="a\u0001"']) {
      const error = assertS3Error(() => grantsFromHeaders({ 'x-amz-grant-write': value }, ''), 'InvalidArgument');
      assert.match(error.message, /^x-amz-grant-write: /, value);
    }
    assertS3Error(
      () => grantsFromHeaders({ 'x-amz-grant-write': 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' }, ''),
      'NotImplemented',
    );
  });

  test('at most 100 grants', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id="user-${i}"`).join(', ');
    assert.equal(grantsFromHeaders({ 'x-amz-grant-read': ids(100) }, '')?.length, 100);
    assertS3Error(() => grantsFromHeaders({ 'x-amz-grant-read': ids(101) }, ''), 'InvalidArgument', /at most 100 grants/);
  });

  test('public grants are those to a group', () => {
    assert.equal(isPublicGrantee({ kind: 'everyone' }), true);
    assert.equal(isPublicGrantee({ kind: 'authenticated' }), true);
    assert.equal(isPublicGrantee({ kind: 'user', id: 'alice' }), false);
  });
});

describe('AccessControlPolicy', () => {
  const grants: Grant[] = [
    { grantee: { kind: 'user', id: 'alice' }, permission: 'READ', prefix: '' },
    { grantee: { kind: 'everyone' }, permission: 'READ', prefix: '' },
    { grantee: { kind: 'authenticated' }, permission: 'WRITE', prefix: '' },
    { grantee: { kind: 'user', id: 'bob & co <admins>' }, permission: 'FULL_CONTROL', prefix: '' },
  ];

  test('renders the owner with FULL_CONTROL first, then each grant, with the xsi type', () => {
    const xml = xmlDocument('AccessControlPolicy', accessControlPolicyBody('owner-1', grants.slice(0, 2)));
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Owner><ID>owner-1</ID><DisplayName>owner-1</DisplayName></Owner><AccessControlList>' +
        '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>owner-1</ID><DisplayName>owner-1</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>' +
        '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>alice</ID><DisplayName>alice</DisplayName></Grantee><Permission>READ</Permission></Grant>' +
        `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
        '</AccessControlList></AccessControlPolicy>',
    );
  });

  test('round-trip: what GetBucketAcl renders, PutBucketAcl reads back (the implicit owner grant dropped)', () => {
    const xml = xmlDocument('AccessControlPolicy', accessControlPolicyBody('owner-1', grants));
    assert.deepEqual(parseAccessControlPolicy(xml, { owner: 'owner-1', prefix: '' }), grants);
    const forObject = parseAccessControlPolicy(xml, { owner: 'owner-1', prefix: 'k/ey' });
    assert.ok(forObject.every((grant) => grant.prefix === 'k/ey'));
  });

  test('reads what SDKs send: indented, the xsi prefix declared on the root, no Owner, or the type left out', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <AccessControlList>
    <Grant>
      <Grantee xsi:type="CanonicalUser"><ID>alice</ID></Grantee>
      <Permission>WRITE_ACP</Permission>
    </Grant>
    <Grant>
      <Grantee><URI>${AUTHENTICATED_USERS}</URI></Grantee>
      <Permission>READ_ACP</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:x="http://www.w3.org/2001/XMLSchema-instance" x:type="Group"><URI>${ALL_USERS}</URI></Grantee>
      <Permission>READ</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`;
    assert.deepEqual(parseAccessControlPolicy(body, { owner: 'o', prefix: '' }), [
      { grantee: { kind: 'user', id: 'alice' }, permission: 'WRITE_ACP', prefix: '' },
      { grantee: { kind: 'authenticated' }, permission: 'READ_ACP', prefix: '' },
      { grantee: { kind: 'everyone' }, permission: 'READ', prefix: '' },
    ]);
    assert.deepEqual(
      parseAccessControlPolicy('<AccessControlPolicy><Owner><ID>o</ID></Owner></AccessControlPolicy>', { owner: 'o', prefix: '' }),
      [],
    );
  });

  const grant = (grantee: string, permission = 'READ') =>
    `<AccessControlPolicy><AccessControlList><Grant>${grantee}<Permission>${permission}</Permission></Grant></AccessControlList></AccessControlPolicy>`;
  const user = '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>alice</ID></Grantee>';

  test('MalformedACLError for a body that is not an ACL Stowage takes', () => {
    const parse = (text: string) => () => parseAccessControlPolicy(text, { owner: 'o', prefix: '' });
    for (const text of [
      '',
      'not xml',
      '<AccessControlPolicy><AccessControlList>',
      '<Other/>',
      '<AccessControlPolicy><Extra/></AccessControlPolicy>',
      '<AccessControlPolicy>text</AccessControlPolicy>',
      grant(user, 'ALL'),
      grant(user, ''),
      grant(user.replace('CanonicalUser', 'Robot')),
      grant(
        '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://example.com/group</URI></Grantee>',
      ),
      grant('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><ID>alice</ID></Grantee>'),
      grant('<Grantee><Name>alice</Name></Grantee>'),
      grant(user.replace('<ID>alice</ID>', '<ID>alice</ID><Extra/>')),
      `<AccessControlPolicy><AccessControlList><Grant>${user}</Grant></AccessControlList></AccessControlPolicy>`,
    ])
      assertS3Error(parse(text), 'MalformedACLError', undefined);
  });

  test("another owner is AccessDenied; a grantee by e-mail address can't be resolved", () => {
    assertS3Error(
      () =>
        parseAccessControlPolicy('<AccessControlPolicy><Owner><ID>mallory</ID></Owner></AccessControlPolicy>', { owner: 'o', prefix: '' }),
      'AccessDenied',
    );
    for (const grantee of [
      '<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="AmazonCustomerByEmail"><EmailAddress>a@example.com</EmailAddress></Grantee>',
      '<Grantee><EmailAddress>a@example.com</EmailAddress></Grantee>',
    ])
      assertS3Error(() => parseAccessControlPolicy(grant(grantee), { owner: 'o', prefix: '' }), 'UnresolvableGrantByEmailAddress');
  });
});

describe('bucket policies', () => {
  const statement = (fields: Record<string, unknown>) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::photos/*', ...fields }],
    });
  const parse = (text: string) => parseBucketPolicy(text, 'photos');

  test('a public read policy: text kept as sent, statements in the domain', () => {
    const text = statement({ Sid: 'PublicRead' });
    const policy = parse(text);
    assert.equal(policy.text, text);
    assert.deepEqual(policy.statements, [
      { sid: 'PublicRead', effect: 'Allow', principals: '*', actions: ['s3:GetObject'], resources: [{ kind: 'objects', prefix: '' }] },
    ]);
    assert.equal(isPublicPolicy(policy), true);
    assert.equal(
      xmlDocument('PolicyStatus', policyStatusBody(policy)),
      '<?xml version="1.0" encoding="UTF-8"?>\n<PolicyStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsPublic>true</IsPublic></PolicyStatus>',
    );
  });

  test('principals, actions and resources in every form S3 takes', () => {
    const policy = parse(
      JSON.stringify({
        Version: '2008-10-17',
        Id: 'shared',
        Statement: {
          Effect: 'Deny',
          Principal: { AWS: ['alice', 'arn:aws:iam::bob:root', 'alice'], CanonicalUser: 'carol' },
          Action: ['s3:getobject', 'S3:PUTOBJECT', 's3:DeleteObject', 's3:ListBucket', '*'],
          Resource: ['arn:aws:s3:::photos', 'arn:aws:s3:::photos/2024/*', 'arn:aws:s3:::photos/readme.txt', 'arn:aws:s3:::photos/2024/*'],
        },
      }),
    );
    assert.deepEqual(policy.statements, [
      {
        sid: undefined,
        effect: 'Deny',
        principals: ['alice', 'bob', 'carol'],
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:*'],
        resources: [
          { kind: 'bucket' },
          { kind: 'objects', prefix: '2024/' },
          // An exact key is that key only.
          { kind: 'object', key: 'readme.txt' },
        ],
      },
    ]);
    assert.equal(isPublicPolicy(policy), false);
    assert.deepEqual(policyStatusBody(policy), { IsPublic: false });
  });

  test('{"AWS": "*"} is everyone; a Deny to everyone does not make the bucket public', () => {
    assert.equal(parse(statement({ Principal: { AWS: '*' } })).statements[0]?.principals, '*');
    assert.equal(parse(statement({ Principal: { AWS: ['alice', '*'] } })).statements[0]?.principals, '*');
    assert.equal(isPublicPolicy(parse(statement({ Effect: 'Deny' }))), false);
    assert.equal(isPublicPolicy(parse(statement({ Principal: { AWS: 'alice' } }))), false);
  });

  test('MalformedPolicy saying what Stowage does not take', () => {
    const cases: [string, RegExp][] = [
      ['not json', /valid JSON/],
      ['[]', /valid JSON/],
      [JSON.stringify({ Version: '2012-10-17' }), /Missing required field Statement/],
      [JSON.stringify({ Version: '2012-10-17', Statement: [] }), /Missing required field Statement/],
      [JSON.stringify({ Version: '2020-01-01', Statement: [] }), /Version is 2012-10-17 or 2008-10-17/],
      [JSON.stringify({ Statement: [], Extra: 1 }), /Unknown field Extra/],
      [statement({ NotPrincipal: { AWS: 'alice' } }), /NotPrincipal is not supported/],
      [statement({ NotAction: 's3:GetObject' }), /NotAction is not supported/],
      [statement({ NotResource: 'arn:aws:s3:::photos/*' }), /NotResource is not supported/],
      [statement({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }), /Condition is not supported/],
      [statement({ Color: 'blue' }), /Unknown field Color/],
      [statement({ Effect: 'Maybe' }), /Invalid effect: Maybe/],
      [statement({ Effect: undefined }), /Missing required field Effect/],
      [statement({ Principal: undefined }), /Missing required field Principal/],
      [statement({ Principal: { Service: 'ec2.amazonaws.com' } }), /Invalid principal in policy: "Service" principals are not supported/],
      [statement({ Principal: { AWS: 'arn:aws:iam::123456789012:user/alice' } }), /no IAM users or roles/],
      [statement({ Principal: { AWS: [] } }), /Principal is a string or a non-empty list/],
      [statement({ Principal: { CanonicalUser: '*' } }), /not a user id/],
      [statement({ Principal: 'alice' }), /Invalid principal/],
      [statement({ Action: 's3:GetObjectAcl' }), /Policy has invalid action: s3:GetObjectAcl/],
      [statement({ Action: 's3:Get*' }), /invalid action/],
      [statement({ Action: [] }), /Action is a string or a non-empty list/],
      [
        statement({ Resource: 'arn:aws:s3:::other/*' }),
        /Policy has invalid resource: arn:aws:s3:::other\/\* \(a bucket's policy names only that bucket/,
      ],
      [statement({ Resource: 'arn:aws:s3:::photosx/*' }), /invalid resource/],
      [statement({ Resource: '*' }), /invalid resource/],
      [statement({ Resource: 'arn:aws:s3:::photos/*.jpg' }), /only wildcard supported is one \* at the end/],
      [statement({ Resource: 'arn:aws:s3:::photos/a?c' }), /only wildcard/],
      [statement({ Resource: 'arn:aws:s3:::photos' }), /Action does not apply to any resource\(s\) in statement: s3:GetObject/],
      [statement({ Action: 's3:ListBucket' }), /Action does not apply to any resource\(s\) in statement: s3:ListBucket/],
      [
        JSON.stringify({ Statement: [JSON.parse(statement({ Sid: 'a' })).Statement[0], JSON.parse(statement({ Sid: 'a' })).Statement[0]] }),
        /Statement IDs \(SID\) in a single policy must be unique/,
      ],
    ];
    for (const [text, message] of cases) assertS3Error(() => parse(text), 'MalformedPolicy', message);
  });

  test('at most 20 KiB', () => {
    const padded = (size: number) => {
      const base = statement({ Sid: '' });
      return base.replace('"Sid":""', `"Sid":"${'x'.repeat(size - base.length)}"`);
    };
    assert.equal(parse(padded(20 * 1024)).statements.length, 1);
    assertS3Error(() => parse(padded(20 * 1024 + 1)), 'MalformedPolicy', /maximum allowed document size/);
  });
});

describe('lifecycle configuration', () => {
  const rule = (inner: string) => `<LifecycleConfiguration><Rule>${inner}</Rule></LifecycleConfiguration>`;
  const expire = '<Status>Enabled</Status><Expiration><Days>7</Days></Expiration>';

  test('reads Filter/Prefix, an empty Filter and the legacy Prefix, indented or not', () => {
    const rules = parseLifecycleConfiguration(`<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>logs</ID>
    <Filter>
      <Prefix>logs/ </Prefix>
    </Filter>
    <Status>Enabled</Status>
    <Expiration>
      <Days>30</Days>
    </Expiration>
  </Rule>
  <Rule><ID>all</ID><Filter/><Status>Disabled</Status><Expiration><Days>365</Days></Expiration></Rule>
  <Rule><ID>legacy</ID><Prefix>tmp/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
  <Rule><ID>empty-prefix</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
</LifecycleConfiguration>`);
    assert.deepEqual(rules, [
      { id: 'logs', prefix: 'logs/ ', enabled: true, days: 30 },
      { id: 'all', prefix: '', enabled: false, days: 365 },
      { id: 'legacy', prefix: 'tmp/', enabled: true, days: 1 },
      { id: 'empty-prefix', prefix: '', enabled: true, days: 2 },
    ]);
  });

  test('a rule without an ID gets one, different for each rule', () => {
    const rules = parseLifecycleConfiguration(
      `<LifecycleConfiguration><Rule><Filter/>${expire}</Rule><Rule><ID></ID><Filter/>${expire}</Rule></LifecycleConfiguration>`,
    );
    assert.equal(rules.length, 2);
    assert.ok(rules.every((r) => r.id.length > 0));
    assert.notEqual(rules[0]?.id, rules[1]?.id);
  });

  test('round-trip through the Filter/Prefix form GetBucketLifecycleConfiguration answers', () => {
    const rules: LifecycleRule[] = [
      { id: 'a & b', prefix: 'x/<y>', enabled: true, days: 10 },
      { id: 'c', prefix: '', enabled: false, days: 1 },
    ];
    const xml = xmlDocument('LifecycleConfiguration', lifecycleConfigurationBody(rules));
    assert.match(
      xml,
      /<Rule><ID>c<\/ID><Filter><Prefix><\/Prefix><\/Filter><Status>Disabled<\/Status><Expiration><Days>1<\/Days><\/Expiration><\/Rule>/,
    );
    assert.deepEqual(parseLifecycleConfiguration(xml), rules);
  });

  test('NotImplemented for the actions and filters Stowage does not have, naming them', () => {
    const cases: [string, RegExp][] = [
      [rule(`<Filter/>${expire}<Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>`), /Transition/],
      [rule(`<Filter/>${expire}<NoncurrentVersionTransition/>`), /NoncurrentVersionTransition/],
      [rule('<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>'), /by Date/],
      [rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>${expire}`), /Filter by Tag/],
      [rule(`<Filter><And><Prefix>a</Prefix></And></Filter>${expire}`), /Filter by And/],
      [rule(`<Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan></Filter>${expire}`), /ObjectSizeGreaterThan/],
    ];
    for (const [text, message] of cases) assertS3Error(() => parseLifecycleConfiguration(text), 'NotImplemented', message);
  });

  test('NoncurrentVersionExpiration: its NoncurrentDays, with or without an Expiration, and back; the bucket’s window from the rules for every key', () => {
    const both = parseLifecycleConfiguration(
      rule(`<ID>b</ID><Filter/>${expire}<NoncurrentVersionExpiration><NoncurrentDays>3</NoncurrentDays></NoncurrentVersionExpiration>`),
    );
    assert.deepEqual(both, [{ id: 'b', prefix: '', enabled: true, days: 7, noncurrentDays: 3 }]);
    const only = parseLifecycleConfiguration(
      rule(
        '<ID>n</ID><Prefix></Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>9</NoncurrentDays></NoncurrentVersionExpiration>',
      ),
    );
    assert.deepEqual(only, [{ id: 'n', prefix: '', enabled: true, days: null, noncurrentDays: 9 }]);
    assert.deepEqual(lifecycleConfigurationBody([...both, ...only]), {
      Rule: [
        { ID: 'b', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 7 }, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
        { ID: 'n', Filter: { Prefix: '' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 9 } },
      ],
    });
    const none = (days: string) =>
      rule(
        `<Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>${days}</NoncurrentDays></NoncurrentVersionExpiration>`,
      );
    // A rule for a prefix is that prefix's own, not the bucket's window.
    const prefixed = parseLifecycleConfiguration(
      rule(
        `<ID>p</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>`,
      ),
    );
    assert.deepEqual(prefixed, [{ id: 'p', prefix: 'a/', enabled: true, days: null, noncurrentDays: 1 }]);
    assert.equal(noncurrentDaysOf(prefixed), undefined);
    assert.equal(noncurrentDaysOf([...prefixed, ...only]), 9);
    assertS3Error(() => parseLifecycleConfiguration(none('0')), 'InvalidArgument', /NoncurrentDays/);
    assertS3Error(() => parseLifecycleConfiguration(none('40000')), 'InvalidArgument', /NoncurrentDays/);
    assertS3Error(() => parseLifecycleConfiguration(none('x')), 'MalformedXML', undefined);
  });

  test('NewerNoncurrentVersions: kept with its NoncurrentDays, and back; 1 to 100', () => {
    const counted = (newer: string, days = '<NoncurrentDays>1</NoncurrentDays>') =>
      rule(
        `<ID>c</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration>${days}<NewerNoncurrentVersions>${newer}</NewerNoncurrentVersions></NoncurrentVersionExpiration>`,
      );
    const rules = parseLifecycleConfiguration(counted(' 3 '));
    assert.deepEqual(rules, [{ id: 'c', prefix: 'a/', enabled: true, days: null, noncurrentDays: 1, noncurrentNewer: 3 }]);
    assert.deepEqual(lifecycleConfigurationBody(rules).Rule, [
      {
        ID: 'c',
        Filter: { Prefix: 'a/' },
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 3 },
      },
    ]);
    assert.deepEqual(parseLifecycleConfiguration(counted('100'))[0]?.noncurrentNewer, 100);
    assertS3Error(() => parseLifecycleConfiguration(counted('0')), 'InvalidArgument', /NewerNoncurrentVersions/);
    assertS3Error(() => parseLifecycleConfiguration(counted('101')), 'InvalidArgument', /NewerNoncurrentVersions/);
    assertS3Error(() => parseLifecycleConfiguration(counted('two')), 'MalformedXML', undefined);
    // The count is of versions past NoncurrentDays: a rule needs the days too.
    assertS3Error(() => parseLifecycleConfiguration(counted('2', '')), 'MalformedXML', undefined);
  });

  test('AbortIncompleteMultipartUpload: its DaysAfterInitiation, alone or beside other actions, and back', () => {
    const abort = (days: string, extra = '') =>
      rule(
        `<ID>a</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status>${extra}<AbortIncompleteMultipartUpload><DaysAfterInitiation>${days}</DaysAfterInitiation></AbortIncompleteMultipartUpload>`,
      );
    const alone = parseLifecycleConfiguration(abort('2'));
    assert.deepEqual(alone, [{ id: 'a', prefix: 'up/', enabled: true, days: null, abortIncompleteDays: 2 }]);
    assert.deepEqual(lifecycleConfigurationBody(alone).Rule, [
      { ID: 'a', Filter: { Prefix: 'up/' }, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
    ]);
    const beside = parseLifecycleConfiguration(abort('7', '<Expiration><Days>30</Days></Expiration>'));
    assert.deepEqual(beside, [{ id: 'a', prefix: 'up/', enabled: true, days: 30, abortIncompleteDays: 7 }]);
    assert.deepEqual(parseLifecycleConfiguration(xmlDocument('LifecycleConfiguration', lifecycleConfigurationBody(beside))), beside);
    assertS3Error(() => parseLifecycleConfiguration(abort('0')), 'InvalidArgument', /DaysAfterInitiation/);
    assertS3Error(() => parseLifecycleConfiguration(abort('soon')), 'MalformedXML', undefined);
    assertS3Error(
      () =>
        parseLifecycleConfiguration(
          rule('<Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><Days>1</Days></AbortIncompleteMultipartUpload>'),
        ),
      'MalformedXML',
      undefined,
    );
  });

  test('Expiration ExpiredObjectDeleteMarker: true or false instead of Days, and back', () => {
    const markers = (inner: string) => rule(`<ID>m</ID><Filter/><Status>Enabled</Status><Expiration>${inner}</Expiration>`);
    const on = parseLifecycleConfiguration(markers('<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>'));
    assert.deepEqual(on, [{ id: 'm', prefix: '', enabled: true, days: null, expiredMarkers: true }]);
    assert.deepEqual(lifecycleConfigurationBody(on).Rule, [
      { ID: 'm', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { ExpiredObjectDeleteMarker: true } },
    ]);
    assert.deepEqual(parseLifecycleConfiguration(xmlDocument('LifecycleConfiguration', lifecycleConfigurationBody(on))), on);
    const off = parseLifecycleConfiguration(markers('<ExpiredObjectDeleteMarker> false </ExpiredObjectDeleteMarker>'));
    assert.equal(off[0]?.expiredMarkers, false);
    assertS3Error(
      () => parseLifecycleConfiguration(markers('<Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>')),
      'MalformedXML',
      /Days/,
    );
    assertS3Error(
      () => parseLifecycleConfiguration(markers('<ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker>')),
      'MalformedXML',
      undefined,
    );
  });

  test("MalformedXML for what S3's schema does not allow", () => {
    for (const text of [
      'nope',
      '<LifecycleConfiguration><Rule>',
      '<Lifecycle/>',
      '<LifecycleConfiguration><Other/></LifecycleConfiguration>',
      rule(`<Filter/>${expire}<Extra/>`),
      rule(`<Filter/><Prefix>a</Prefix>${expire}`),
      rule(expire),
      rule('<Filter/><Status>On</Status><Expiration><Days>7</Days></Expiration>'),
      rule('<Filter/><Expiration><Days>7</Days></Expiration>'),
      rule('<Filter/><Status>Enabled</Status><Expiration><Days>seven</Days></Expiration>'),
      rule('<Filter/><Status>Enabled</Status><Expiration><Days>1.5</Days></Expiration>'),
      rule('<Filter/><Status>Enabled</Status><Expiration></Expiration>'),
      rule(`<Filter><Prefix>a</Prefix><Prefix>b</Prefix></Filter>${expire}`),
      rule(`<Filter><Other/></Filter>${expire}`),
    ])
      assertS3Error(() => parseLifecycleConfiguration(text), 'MalformedXML', undefined);
  });

  test('InvalidRequest for no rule, over 1000 rules or a rule without an action', () => {
    assertS3Error(() => parseLifecycleConfiguration('<LifecycleConfiguration/>'), 'InvalidRequest', /At least one lifecycle rule/);
    const many = (n: number) =>
      `<LifecycleConfiguration>${Array.from({ length: n }, (_, i) => `<Rule><ID>r${i}</ID><Filter/>${expire}</Rule>`).join('')}</LifecycleConfiguration>`;
    assert.equal(parseLifecycleConfiguration(many(1000)).length, 1000);
    assertS3Error(() => parseLifecycleConfiguration(many(1001)), 'InvalidRequest', /must not exceed the allowed limit of 1000 rules/);
    assertS3Error(() => parseLifecycleConfiguration(rule('<Filter/><Status>Enabled</Status>')), 'InvalidRequest', /At least one action/);
  });

  test('InvalidArgument for Days that are not positive, a long ID or a repeated one', () => {
    for (const days of ['0', '-3', '2147483648'])
      assertS3Error(
        () => parseLifecycleConfiguration(rule(`<Filter/><Status>Enabled</Status><Expiration><Days>${days}</Days></Expiration>`)),
        'InvalidArgument',
        /'Days' for Expiration action must be a positive integer/,
      );
    assert.equal(parseLifecycleConfiguration(rule(`<ID>${'i'.repeat(255)}</ID><Filter/>${expire}`))[0]?.id.length, 255);
    assertS3Error(() => parseLifecycleConfiguration(rule(`<ID>${'i'.repeat(256)}</ID><Filter/>${expire}`)), 'InvalidArgument', /255/);
    assertS3Error(
      () =>
        parseLifecycleConfiguration(
          `<LifecycleConfiguration><Rule><ID>x</ID><Filter/>${expire}</Rule><Rule><ID>x</ID><Prefix>a</Prefix>${expire}</Rule></LifecycleConfiguration>`,
        ),
      'InvalidArgument',
      /Rule ID must be unique/,
    );
  });
});

describe('public access block', () => {
  test('missing settings are false; xs:boolean values', () => {
    assert.deepEqual(
      parsePublicAccessBlock('<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>'),
      {
        blockPublicAcls: true,
        ignorePublicAcls: false,
        blockPublicPolicy: false,
        restrictPublicBuckets: false,
      },
    );
    assert.deepEqual(
      parsePublicAccessBlock(`<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <BlockPublicAcls>false</BlockPublicAcls>
  <IgnorePublicAcls> 1 </IgnorePublicAcls>
  <BlockPublicPolicy>0</BlockPublicPolicy>
  <RestrictPublicBuckets>true</RestrictPublicBuckets>
</PublicAccessBlockConfiguration>`),
      { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: true },
    );
    assert.deepEqual(parsePublicAccessBlock('<PublicAccessBlockConfiguration/>'), {
      blockPublicAcls: false,
      ignorePublicAcls: false,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    });
  });

  test('round-trip, every setting named in the answer', () => {
    const block = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    const xml = xmlDocument('PublicAccessBlockConfiguration', publicAccessBlockBody(block));
    assert.match(
      xml,
      /<BlockPublicAcls>true<\/BlockPublicAcls><IgnorePublicAcls>false<\/IgnorePublicAcls><BlockPublicPolicy>true<\/BlockPublicPolicy><RestrictPublicBuckets>false<\/RestrictPublicBuckets>/,
    );
    assert.deepEqual(parsePublicAccessBlock(xml), block);
  });

  test('MalformedXML for anything else', () => {
    for (const text of [
      '',
      '<Other/>',
      '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>',
      '<PublicAccessBlockConfiguration><BlockPublicAcls/></PublicAccessBlockConfiguration>',
      '<PublicAccessBlockConfiguration><BlockEverything>true</BlockEverything></PublicAccessBlockConfiguration>',
      '<PublicAccessBlockConfiguration>true</PublicAccessBlockConfiguration>',
    ])
      assertS3Error(() => parsePublicAccessBlock(text), 'MalformedXML', undefined);
  });
});

describe('ListBuckets', () => {
  const query = (text: string) => parseListBucketsQuery(new URLSearchParams(text));

  test('the query: max-buckets 1-10000 (10000 by default), prefix, bucket-region, continuation-token', () => {
    assert.deepEqual(query(''), { maxBuckets: 10_000, after: undefined, prefix: undefined, bucketRegion: undefined });
    assert.deepEqual(query(`max-buckets=2&prefix=ph&bucket-region=us-east-1&continuation-token=${encodeBucketsToken('photos')}`), {
      maxBuckets: 2,
      after: 'photos',
      prefix: 'ph',
      bucketRegion: 'us-east-1',
    });
    assert.equal(query('max-buckets=1').maxBuckets, 1);
    assert.equal(query('max-buckets=10000').maxBuckets, 10_000);
    assert.equal(query('continuation-token=').after, undefined);
    for (const value of ['0', '10001', '-1', '1.5', 'ten', '', ' 5', '1e3', '99999999999']) {
      const error = assertS3Error(() => query(`max-buckets=${encodeURIComponent(value)}`), 'InvalidArgument', /max-buckets/);
      assert.equal(error.details.ArgumentName, 'max-buckets', value);
    }
  });

  test('continuation tokens: round-trip of any bucket name; one this endpoint did not make is InvalidArgument', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/), (name) => decodeBucketsToken(encodeBucketsToken(name)) === name),
    );
    for (const token of ['***', 'not a token', encodeBucketsToken('Upper'), encodeBucketsToken('a/b'), `${encodeBucketsToken('photos')}=`])
      assertS3Error(() => decodeBucketsToken(token), 'InvalidArgument', /continuation token provided is incorrect/);
  });

  test('the page: owner, buckets with creation date and region, a token when more follow, the prefix when asked', () => {
    const buckets = [
      { name: 'data', createdAt: new Date(0) },
      { name: 'photos', createdAt: new Date('2026-03-04T05:06:07.089Z') },
    ];
    const more = listAllMyBucketsBody({ owner: 'alice', buckets, region: 'us-east-1', prefix: 'p', truncated: true });
    assert.equal(
      xmlDocument('ListAllMyBucketsResult', more),
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<Owner><ID>alice</ID><DisplayName>alice</DisplayName></Owner><Buckets>' +
        '<Bucket><Name>data</Name><CreationDate>1970-01-01T00:00:00.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>' +
        '<Bucket><Name>photos</Name><CreationDate>2026-03-04T05:06:07.089Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket>' +
        `</Buckets><ContinuationToken>${encodeBucketsToken('photos')}</ContinuationToken><Prefix>p</Prefix></ListAllMyBucketsResult>`,
    );
    assert.equal(query(`continuation-token=${more.ContinuationToken}`).after, 'photos');
    const last = listAllMyBucketsBody({ owner: 'alice', buckets, region: 'us-east-1', truncated: false });
    assert.equal('ContinuationToken' in last || 'Prefix' in last, false);
    const none = listAllMyBucketsBody({ owner: 'alice', buckets: [], region: 'us-east-1', truncated: false });
    assert.match(xmlDocument('ListAllMyBucketsResult', none), /<Buckets><\/Buckets><\/ListAllMyBucketsResult>$/);
  });
});
