// Rule (issue 7: "`tessera token create` issues tokens"): the CLI writes a random shared
// secret, issues a token with the asked subject, role, groups and lifetime signed with it, and
// verifies it; a token checked against another secret is refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadSecret, tokenKeys } from '../../src/security/keys.js';
import { verifyApiToken } from '../../src/security/tokens.js';
import { TESSERA_BIN, tempDir } from '../helpers/processes.js';

function tessera(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [TESSERA_BIN, ...args], {
    env: { ...process.env, TESSERA_FROM_SOURCE: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('tessera token', () => {
  const dir = tempDir('token-cli');
  after(() => dir.cleanup());

  test('secret, create and verify', async () => {
    const secretFile = join(dir.path, 'secret.txt');
    assert.equal(tessera(['token', 'secret', '--file', secretFile]).status, 0);
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    const created = tessera(
      [
        'token',
        'create',
        '--role',
        'writer',
        '--subject',
        'ana',
        '--groups',
        'a,b',
        '--ttl',
        '2h',
        '--json',
      ],
      { TESSERA_AUTH_SECRET_FILE: secretFile },
    );
    assert.equal(created.status, 0, created.stderr);
    const answer = JSON.parse(created.stdout) as { token: string; expires_at: string };
    const keys = tokenKeys(loadSecret(secretFile, {}) ?? Buffer.alloc(0));
    const check = await verifyApiToken(keys, answer.token, Date.now());
    assert.deepEqual(check.ok && check.value, {
      subject: 'ana',
      role: 'writer',
      groups: ['a', 'b'],
    });
    const lifetimeMs = Date.parse(answer.expires_at) - Date.now();
    assert.ok(lifetimeMs > 7_000_000 && lifetimeMs <= 7_200_000, `lifetime ${lifetimeMs}`);
    const verified = tessera(['token', 'verify', answer.token, '--auth-secret-file', secretFile]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stdout, /"subject":"ana"/);
    const other = tessera(['token', 'verify', answer.token], {
      TESSERA_AUTH_SECRET: 'x'.repeat(40),
    });
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /signature/);
    const badRole = tessera(['token', 'create', '--role', 'root', '--subject', 'x'], {
      TESSERA_AUTH_SECRET_FILE: secretFile,
    });
    assert.notEqual(badRole.status, 0);
  });
});
