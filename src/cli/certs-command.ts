/**
 * `tessera certs`: a local certificate authority for `--tls-*` (issue 7), and keys for chunk
 * encryption at rest (`--encrypt --key-file`).
 *
 *   tessera certs create --dir certs --hosts 127.0.0.1,localhost [--nodes a,b]
 *   tessera certs encryption-key --key-file keys.txt [--id k2]
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { createCertificates } from '../security/certs.js';
import { newKeyLine, parseKeyFile } from '../security/encryption.js';

export function addCertsCommand(program: Command): void {
  const certs = program
    .command('certs')
    .description('Create a local CA and node certificates for TLS, and chunk encryption keys.');
  certs
    .command('create')
    .description(
      'Create (or reuse) a CA in --dir and sign one certificate per node, plus a client one.',
    )
    .requiredOption('--dir <dir>', 'directory for the CA, certificates and keys')
    .option('--hosts <list>', 'IPs and DNS names the certificates are valid for', list, [
      '127.0.0.1',
      'localhost',
    ])
    .option('--nodes <list>', 'names of the node certificates', list, ['node'])
    .option('--days <n>', 'validity of the certificates in days', positiveInt, 825)
    .action(async (options: { dir: string; hosts: string[]; nodes: string[]; days: number }) => {
      try {
        const files = await createCertificates(options);
        const lines = [
          `${files.caReused ? 'reused' : 'created'} CA      ${files.caCert} (key ${files.caKey}: keep it private)`,
          ...files.nodes.map((node) => `node ${node.name.padEnd(8)} ${node.cert} ${node.key}`),
          `client        ${files.client.cert} ${files.client.key}`,
          '',
          'Start each service with:',
          `  --tls-cert ${files.nodes[0]?.cert ?? '<node>.crt'} --tls-key ${files.nodes[0]?.key ?? '<node>.key'} --tls-ca ${files.caCert} [--tls-client-auth]`,
          'and point clients at the CA: TESSERA_TLS_CA=' + files.caCert,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (error) {
        certs.error(`tessera: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  certs
    .command('encryption-key')
    .description(
      'Append a new 256-bit key to a key file; datanodes encrypt new chunks with the last one.',
    )
    .requiredOption('--key-file <file>', 'the key file (created with mode 0600 if missing)')
    .option('--id <id>', 'name of the new key (default k<n>)')
    .action(async (options: { keyFile: string; id?: string }) => {
      const existing = existsSync(options.keyFile)
        ? parseKeyFile(readFileSync(options.keyFile, 'utf8')).keys.map((key) => key.id)
        : [];
      const id = options.id ?? `k${existing.length + 1}`;
      if (existing.includes(id)) certs.error(`tessera: key ${id} is already in ${options.keyFile}`);
      await appendFile(options.keyFile, `${newKeyLine(id)}\n`, { mode: 0o600 });
      process.stdout.write(
        `added key ${id} to ${options.keyFile}; restart datanodes to use it for new chunks\n`,
      );
    });
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function positiveInt(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError('expected an integer >= 1');
  return value;
}
