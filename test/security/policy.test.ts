// Rule (issue 7: roles admin / writer / reader; dfs-architecture.md, "Autorización": ACLs por
// archivo con lectura/escritura, ownership y grupos): a role grants what every weaker role
// grants; GET/HEAD need reader, other methods writer, the cluster's own plumbing admin; a
// file's owner, group and others get the read/write bits of its mode, admins pass every check.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  aclAllows,
  aclForUpload,
  formatMode,
  mayChangeAcl,
  parseMode,
  type FileAcl,
} from '../../src/security/acl.js';
import { takeTokenOption } from '../../src/security/cli-token.js';
import { requiredAccess, roleAtLeast, ROLES, type Principal } from '../../src/security/roles.js';

const who = (subject: string, role: Principal['role'] = 'writer', groups: string[] = []) => ({
  subject,
  role,
  groups,
});

describe('roles', () => {
  test('each role includes the weaker ones', () => {
    assert.equal(roleAtLeast('admin', 'writer'), true);
    assert.equal(roleAtLeast('writer', 'reader'), true);
    assert.equal(roleAtLeast('reader', 'writer'), false);
    assert.equal(roleAtLeast('writer', 'admin'), false);
    for (const role of ROLES) assert.equal(roleAtLeast(role, role), true);
  });

  test('the required role follows route config, then the route table, then the method', () => {
    const cases: [string, string | undefined, object, string][] = [
      ['GET', '/servers', {}, 'reader'],
      ['HEAD', '/api/v1/chunks/:chunk_id', {}, 'reader'],
      ['POST', '/api/v1/files/upload-init', {}, 'writer'],
      ['DELETE', '/api/v1/files/*', {}, 'writer'],
      ['DELETE', '/servers/:server_id', {}, 'admin'],
      ['POST', '/register', {}, 'admin'],
      ['POST', '/api/v1/nodes/heartbeat', {}, 'admin'],
      ['GET', '/internal/doc/:doc_id', {}, 'admin'],
      ['HEAD', '/shuffle/:job_id/:map_task_id/:partition', {}, 'admin'],
      ['POST', '/search', {}, 'reader'],
      ['POST', '/fault-tolerance/dead-letter-queue/:task_id/recover', {}, 'writer'],
      ['GET', '/anything', { role: 'public' }, 'public'],
      ['GET', '/api/v1/chunks/:chunk_id', { role: 'admin', chunkAccess: 'read' }, 'admin'],
      ['PATCH', undefined, {}, 'writer'],
    ];
    for (const [method, route, access, expected] of cases) {
      assert.equal(requiredAccess(method, route, access), expected, `${method} ${route}`);
    }
  });
});

describe('file ACLs', () => {
  const acl: FileAcl = { owner: 'ana', group: 'team', mode: 0o640 };

  test('owner, group and others get their bits', () => {
    assert.equal(aclAllows(acl, who('ana'), 'write'), true);
    assert.equal(aclAllows(acl, who('carol', 'writer', ['team']), 'read'), true);
    assert.equal(aclAllows(acl, who('carol', 'writer', ['team']), 'write'), false);
    assert.equal(aclAllows(acl, who('bob'), 'read'), false);
    assert.equal(aclAllows(acl, who('bob', 'admin'), 'write'), true);
    assert.equal(aclAllows(undefined, who('bob', 'reader'), 'write'), true, 'no ACL: open');
  });

  test('admins pass and the owner’s bits decide for the owner (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0o777 }),
        fc.constantFrom('read' as const, 'write' as const),
        (mode, access) => {
          const file = { owner: 'ana', group: null, mode };
          const bit = access === 'read' ? 0o400 : 0o200;
          assert.equal(aclAllows(file, who('root', 'admin'), access), true);
          assert.equal(aclAllows(file, who('ana'), access), (mode & bit) !== 0);
          assert.equal(aclAllows(file, who('bob'), access), (mode & (bit >> 6)) !== 0);
        },
      ),
    );
  });

  test('an upload owns its file, unless it overwrites one (which keeps the owner)', () => {
    assert.deepEqual(aclForUpload(who('bob', 'writer', ['dev']), {}, undefined), {
      owner: 'bob',
      group: 'dev',
      mode: 0o644,
    });
    assert.deepEqual(aclForUpload(who('carol'), {}, acl), acl);
    assert.deepEqual(aclForUpload(who('ana'), { mode: 0o600 }, acl), { ...acl, mode: 0o600 });
    assert.equal(mayChangeAcl(acl, who('carol', 'writer', ['team'])), false);
    assert.equal(mayChangeAcl(acl, who('ana')), true);
  });

  test('modes parse and print', () => {
    assert.equal(parseMode('640'), 0o640);
    assert.equal(parseMode('0o600'), 0o600);
    assert.equal(parseMode('800'), undefined);
    assert.equal(formatMode(0o750), 'rwxr-x---');
  });
});

describe('the CLI --token option', () => {
  test('is taken from anywhere on the command line into TESSERA_TOKEN', () => {
    const env: Record<string, string | undefined> = {};
    const argv = ['node', 'tessera', 'fs', '--token', 'abc', 'ls', '/'];
    assert.deepEqual(takeTokenOption(argv, env), ['node', 'tessera', 'fs', 'ls', '/']);
    assert.equal(env['TESSERA_TOKEN'], 'abc');
    const other: Record<string, string | undefined> = {};
    assert.deepEqual(takeTokenOption(['x', '--token=t2', '--', '--token', 'y'], other), [
      'x',
      '--',
      '--token',
      'y',
    ]);
    assert.equal(other['TESSERA_TOKEN'], 't2');
  });
});
