// Throwaway PKI for the test control plane and for webhook servers. X.509
// certificates are made with the openssl CLI (node:crypto can make keys but
// not certificates). EC P-256
// keys because they are generated in milliseconds, unlike RSA, and every
// component involved (kube-apiserver, etcd client, Node's TLS) accepts them.

import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EnvtestError } from './errors';

const run = promisify(execFile);

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends KeyPair {
  /** Issues a leaf certificate signed by this CA. */
  issue(request: LeafRequest): Promise<KeyPair>;
}

export interface LeafRequest {
  commonName: string;
  /** Becomes the subject's O=, which Kubernetes reads as group membership. */
  organization?: string;
  /** Subject alternative names, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
  altNames?: string[];
  usage: 'server' | 'client';
}

const VALIDITY_DAYS = '2';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new EnvtestError(
      'KDLP_ENVTEST_PKI',
      `openssl ${args[0]} failed (is the openssl CLI installed?): ${stderr.trim() || String(err)}`,
      { cause: err },
    );
  }
}

function subject(commonName: string, organization?: string): string {
  // openssl's -subj syntax: "/O=.../CN=..."; the names used here are ours and
  // contain no "/" or "=".
  return `${organization ? `/O=${organization}` : ''}/CN=${commonName}`;
}

/** Creates a new self-signed CA. Its key stays in memory only. */
export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const dir = await mkdtemp(join(tmpdir(), 'kdlp-pki-'));
  try {
    await openssl(
      [
        'req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
        '-keyout', 'ca.key', '-out', 'ca.crt', '-days', VALIDITY_DAYS, '-subj', subject(commonName),
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    const ca = {
      certPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
      keyPem: await readFile(join(dir, 'ca.key'), 'utf8'),
    };
    return { ...ca, issue: (request) => issueLeaf(ca, request) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function issueLeaf(ca: KeyPair, request: LeafRequest): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'kdlp-pki-'));
  try {
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'ca.key'), ca.keyPem, { mode: 0o600 });
    const extensions = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${request.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ];
    if (request.altNames && request.altNames.length > 0) {
      extensions.push(`subjectAltName=${request.altNames.join(',')}`);
    }
    await writeFile(join(dir, 'ext.cnf'), extensions.join('\n') + '\n');
    await openssl(
      [
        'req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
        '-keyout', 'leaf.key', '-out', 'leaf.csr',
        '-subj', subject(request.commonName, request.organization),
      ],
      dir,
    );
    await openssl(
      [
        'x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-days', VALIDITY_DAYS, '-extfile', 'ext.cnf', '-out', 'leaf.crt',
      ],
      dir,
    );
    return {
      certPem: await readFile(join(dir, 'leaf.crt'), 'utf8'),
      keyPem: await readFile(join(dir, 'leaf.key'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A key pair for service-account token signing: kube-apiserver signs with the
 * private key (SEC1 PEM) and verifies with the public one (SPKI PEM); its
 * --service-account-key-file does not read PKCS#8 private keys.
 */
export function createSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export interface WebhookServingCert extends KeyPair {
  /** PEM of the CA to put in a webhook configuration's caBundle. */
  caPem: string;
}

/**
 * A serving certificate for a webhook server on this machine (127.0.0.1 and
 * localhost), signed by a CA of its own so the webhook tests do not depend on
 * the control plane's CA key, which a reused control plane does not share.
 */
export async function createWebhookServingCert(): Promise<WebhookServingCert> {
  const ca = await createCertificateAuthority('kube-dlp-envtest-webhook-ca');
  const leaf = await ca.issue({
    commonName: '127.0.0.1',
    altNames: ['IP:127.0.0.1', 'DNS:localhost'],
    usage: 'server',
  });
  return { ...leaf, caPem: ca.certPem };
}
