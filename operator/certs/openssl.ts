// Makes the webhook's CA and serving certificates. Keys come from node:crypto
// (EC P-256: generated in milliseconds, accepted by the API server and Node);
// certificates from the openssl CLI, because node:crypto reads X.509 but
// cannot write it. The operator image therefore needs the `openssl` package.
// Key material only ever lives in a private temporary folder, removed at once.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslError } from '../webhook/errors';

const run = promisify(execFile);

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface ServingRequest {
  commonName: string;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  validityDays: number;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9 .:_-]*$/;

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (the openssl CLI is not installed)' : '';
    throw new OpensslError(`openssl ${args[0]} failed${missing}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'kdlp-certs-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function checkName(what: string, value: string): void {
  if (!SAFE_NAME.test(value)) throw new OpensslError(`${what} ${JSON.stringify(value)} has characters openssl's -subj cannot take`);
}

function days(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new OpensslError(`validity must be a whole number of days >= 1, got ${n}`);
  return String(n);
}

/** A self-signed CA that may only sign certificates (no intermediates). */
export async function createCertificateAuthority(commonName: string, validityDays: number): Promise<KeyPair> {
  checkName('CA name', commonName);
  return withScratch(async (dir) => {
    const keyPem = newKeyPem();
    await writeFile(join(dir, 'ca.key'), keyPem, { mode: 0o600 });
    await openssl(
      [
        'req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', days(validityDays), '-sha256',
        '-subj', `/CN=${commonName}`,
        '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
        '-addext', 'subjectKeyIdentifier=hash',
      ],
      dir,
    );
    return { certPem: await readFile(join(dir, 'ca.crt'), 'utf8'), keyPem };
  });
}

/** A TLS server certificate for `dnsNames` (and IPs) signed by `ca`. */
export async function issueServingCertificate(ca: KeyPair, request: ServingRequest): Promise<KeyPair> {
  checkName('common name', request.commonName);
  const sans = [...request.dnsNames.map((d) => `DNS:${d}`), ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
  if (sans.length === 0) throw new OpensslError('a serving certificate needs at least one DNS name or IP address');
  for (const s of sans) if (!/^(DNS|IP):[A-Za-z0-9.:*-]+$/.test(s)) throw new OpensslError(`subject alternative name ${JSON.stringify(s)} is not valid`);
  return withScratch(async (dir) => {
    const keyPem = newKeyPem();
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'tls.key'), keyPem, { mode: 0o600 });
    await writeFile(
      join(dir, 'ext.cnf'),
      [
        `subjectAltName=${sans.join(',')}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        'authorityKeyIdentifier=keyid',
        '',
      ].join('\n'),
    );
    await openssl(['req', '-new', '-key', 'tls.key', '-subj', `/CN=${request.commonName}`, '-out', 'tls.csr'], dir);
    await openssl(
      [
        'x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(16).toString('hex')}`,
        '-days', days(request.validityDays), '-sha256', '-extfile', 'ext.cnf', '-out', 'tls.crt',
      ],
      dir,
    );
    return { certPem: await readFile(join(dir, 'tls.crt'), 'utf8'), keyPem };
  });
}
