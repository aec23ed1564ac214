/**
 * `tessera token`: issues API tokens (issue 7) and makes the cluster's shared secret.
 *
 *   tessera token secret --file secret.txt            a new random secret (mode 0600)
 *   tessera token create --role writer --subject ana  a token, signed with the secret
 *   tessera token verify <token>                      its claims, if the secret signed it
 *
 * The secret comes from `--auth-secret-file` (env TESSERA_AUTH_SECRET_FILE) or the
 * TESSERA_AUTH_SECRET variable: the same one the services are started with.
 */
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDurationMs } from '../core/config.js';
import { generateSecret, loadSecret, tokenKeys, type TokenKeys } from '../security/keys.js';
import { parseRole, ROLES, type Role } from '../security/roles.js';

/** Default lifetime of a token made by `tessera token create`. */
export const DEFAULT_TOKEN_TTL = '24h';

export function addTokenCommand(program: Command): void {
  const token = program.command('token').description('Issue API tokens (JWT) for --auth clusters.');
  addCreate(token);
  addVerify(token);
  token
    .command('secret')
    .description('Write a new random shared secret for --auth-secret-file.')
    .requiredOption('--file <path>', 'where to write it (must not exist)')
    .action(async (options: { file: string }) => {
      await writeFile(options.file, `${generateSecret()}\n`, { mode: 0o600, flag: 'wx' });
      process.stdout.write(
        `wrote ${options.file}; start every service with --auth-secret-file ${options.file}\n`,
      );
    });
}

function secretOption(): Option {
  return new Option('--auth-secret-file <file>', 'the cluster’s shared secret').env(
    'TESSERA_AUTH_SECRET_FILE',
  );
}

function keysFrom(command: Command, file: string | undefined): TokenKeys {
  const secret = loadSecret(file, process.env);
  if (secret === undefined) {
    command.error('tessera: give --auth-secret-file (or set TESSERA_AUTH_SECRET)');
  }
  try {
    return tokenKeys(secret);
  } catch (error) {
    return command.error(`tessera: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function addCreate(token: Command): void {
  const create = token
    .command('create')
    .description('Print a signed token for a subject and role.')
    .addOption(
      new Option('--role <role>', 'what the token may do').choices(ROLES).makeOptionMandatory(),
    )
    .requiredOption('--subject <name>', 'who the token is for (the owner of files it creates)')
    .option('--groups <names>', 'comma-separated groups, for file ACLs', '')
    .option(
      '--ttl <duration>',
      'lifetime, e.g. 30m, 24h, 7d is 168h',
      parseTtl,
      parseTtl(DEFAULT_TOKEN_TTL),
    )
    .addOption(secretOption())
    .option('--json', 'print JSON with the expiry');
  create.action(
    async (options: {
      role: string;
      subject: string;
      groups: string;
      ttl: number;
      authSecretFile?: string;
      json?: boolean;
    }) => {
      const keys = keysFrom(create, options.authSecretFile);
      const role = parseRole(options.role) as Role;
      const groups = options.groups
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g !== '');
      const { issueApiToken } = await import('../security/tokens.js');
      const nowMs = Date.now();
      const claims = { subject: options.subject, role, groups, ttlMs: options.ttl };
      const jwt = await issueApiToken(keys, claims, nowMs);
      if (options.json) {
        const expiresAt = new Date(nowMs + options.ttl).toISOString();
        process.stdout.write(
          `${JSON.stringify({ token: jwt, subject: options.subject, role, groups, expires_at: expiresAt })}\n`,
        );
      } else process.stdout.write(`${jwt}\n`);
    },
  );
}

function addVerify(token: Command): void {
  const verify = token
    .command('verify')
    .description('Check a token against the secret and print its claims.')
    .argument('<token>')
    .addOption(secretOption());
  verify.action(async (jwt: string, options: { authSecretFile?: string }) => {
    const keys = keysFrom(verify, options.authSecretFile);
    const { verifyApiToken } = await import('../security/tokens.js');
    const check = await verifyApiToken(keys, jwt, Date.now());
    if (!check.ok) verify.error(`tessera: ${check.reason}`);
    else {
      const expiresAt = new Date(check.expiresAtMs).toISOString();
      process.stdout.write(`${JSON.stringify({ ...check.value, expires_at: expiresAt })}\n`);
    }
  });
}

function parseTtl(raw: string): number {
  try {
    const ms = parseDurationMs(raw);
    if (ms <= 0) throw new Error('must be > 0');
    return ms;
  } catch {
    throw new InvalidArgumentError('expected a duration such as 30m, 24h or 3600');
  }
}
