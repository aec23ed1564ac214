/**
 * A local certificate authority for TLS between Tessera services (dfs-architecture.md,
 * "Encriptación, En Tránsito": "Usar mTLS entre todos los componentes"), made with the
 * `openssl` command: `tessera certs create` writes a CA and one certificate per node (usable
 * as server and as client certificate, for mutual TLS), plus a client-only certificate for
 * people and scripts. Keys are ECDSA P-256 and written with mode 0600.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What `createCertificates` makes. */
export interface CertificateRequest {
  /** Directory for every file; created if needed. */
  readonly dir: string;
  /** IP addresses and DNS names the node certificates are valid for. */
  readonly hosts: readonly string[];
  /** One certificate per name: `<name>.crt` and `<name>.key`. */
  readonly nodes: readonly string[];
  /** Validity of the node and client certificates, in days. */
  readonly days: number;
  /** Path of the openssl binary. Default `openssl` from PATH. */
  readonly openssl?: string;
}

/** The files written. */
export interface CertificateFiles {
  readonly caCert: string;
  readonly caKey: string;
  /** True when an existing CA of the directory was used. */
  readonly caReused: boolean;
  readonly nodes: readonly { readonly name: string; readonly cert: string; readonly key: string }[];
  readonly client: { readonly cert: string; readonly key: string };
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const CA_DAYS = 3650;
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Creates (or reuses) the CA in `dir` and signs the node and client certificates. */
export async function createCertificates(request: CertificateRequest): Promise<CertificateFiles> {
  checkRequest(request);
  const openssl = request.openssl ?? 'openssl';
  await mkdir(request.dir, { recursive: true });
  const caCert = join(request.dir, 'ca.crt');
  const caKey = join(request.dir, 'ca.key');
  const caReused = existsSync(caCert) && existsSync(caKey);
  if (!caReused) {
    await openSsl(openssl, [
      'req',
      '-x509',
      '-new',
      ...EC_KEY,
      '-keyout',
      caKey,
      '-out',
      caCert,
      '-days',
      String(CA_DAYS),
      '-subj',
      '/CN=Tessera local CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await chmod(caKey, 0o600);
  }
  const ca = { cert: caCert, key: caKey };
  const san = request.hosts.map((host) => (isIP(host) ? `IP:${host}` : `DNS:${host}`)).join(',');
  const nodes = [];
  for (const name of request.nodes) {
    const extensions = ['extendedKeyUsage=serverAuth,clientAuth', `subjectAltName=${san}`];
    nodes.push({ name, ...(await signCertificate(openssl, request, ca, name, extensions)) });
  }
  const client = await signCertificate(openssl, request, ca, 'client', [
    'extendedKeyUsage=clientAuth',
  ]);
  return { caCert, caKey, caReused, nodes, client };
}

function checkRequest(request: CertificateRequest): void {
  if (request.hosts.length === 0) throw new RangeError('give at least one host (--hosts)');
  for (const host of request.hosts) {
    if (isIP(host) === 0 && !/^[A-Za-z0-9*]([A-Za-z0-9.-]{0,252})$/.test(host)) {
      throw new RangeError(`not an IP address or a DNS name: ${JSON.stringify(host)}`);
    }
  }
  for (const name of [...request.nodes, 'client']) {
    if (!NAME_PATTERN.test(name)) throw new RangeError(`invalid name ${JSON.stringify(name)}`);
  }
  if (request.nodes.includes('ca') || request.nodes.includes('client')) {
    throw new RangeError('the names ca and client are taken');
  }
  if (!Number.isInteger(request.days) || request.days < 1)
    throw new RangeError('days must be >= 1');
}

/** Writes `<name>.key` and `<name>.crt` signed by the CA with the given v3 extensions. */
async function signCertificate(
  openssl: string,
  request: CertificateRequest,
  ca: { cert: string; key: string },
  name: string,
  extensions: readonly string[],
): Promise<{ cert: string; key: string }> {
  const base = join(request.dir, name);
  const [cert, key, csr, ext] = [`${base}.crt`, `${base}.key`, `${base}.csr`, `${base}.ext`];
  const common = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ];
  try {
    await openSsl(openssl, [
      'req',
      '-new',
      ...EC_KEY,
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${name}`,
    ]);
    await chmod(key, 0o600);
    await writeFile(ext, `${[...common, ...extensions].join('\n')}\n`);
    await openSsl(openssl, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(request.days),
      '-sha256',
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
  return { cert, key };
}

async function openSsl(openssl: string, args: readonly string[]): Promise<void> {
  try {
    await run(openssl, args, { timeout: 60_000 });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') {
      throw new Error('the openssl command is needed to create certificates; install openssl', {
        cause: error,
      });
    }
    throw new Error(
      `openssl ${args[0] ?? ''} failed: ${failure.stderr?.trim() ?? failure.message}`,
      {
        cause: error,
      },
    );
  }
}
