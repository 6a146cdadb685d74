// Makes the webhook's CA and serving certificates in-process with
// @peculiar/x509 over WebCrypto (proxy/tls/x509.ts loads it once): EC P-256
// keys, ECDSA-SHA256 signatures, accepted by the API server and Node. Key
// material never touches the disk and no external tool is run, so the
// operator image needs no openssl.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { P256, P256_SHA256, subtle, toPem, x509, type CryptoKey, type CryptoKeyPair } from '../../proxy/tls/x509';
import { CertificateIssueError } from '../errors';

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

const DAY_MS = 86_400_000;
/** Tolerates clock skew between the operator and the API servers. */
const BACKDATE_MS = 5 * 60_000;
// A subject name and SAN entries are data, not syntax, here; still, only what
// a certificate for a Kubernetes Service or an address can sensibly carry.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9 .:_-]*$/;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function checkName(what: string, value: string): void {
  if (!SAFE_NAME.test(value) || value.length > 64) throw new CertificateIssueError(`${what} ${JSON.stringify(value)} is not a valid certificate name`);
}

function validity(now: Date, days: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(days) || days < 1) throw new CertificateIssueError(`validity must be a whole number of days >= 1, got ${days}`);
  return { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + days * DAY_MS) };
}

/** Positive 128-bit serial (RFC 5280 §4.1.2.2). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  return toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
}

/** A self-signed CA that may only sign certificates (no intermediates). */
export async function createCertificateAuthority(commonName: string, validityDays: number, now = new Date()): Promise<KeyPair> {
  checkName('CA name', commonName);
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    ...validity(now, validityDays),
    keys,
    signingAlgorithm: P256_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: await keyPem(keys) };
}

/** A TLS server certificate for `dnsNames` (and IPs) signed by `ca`. */
export async function issueServingCertificate(ca: KeyPair, request: ServingRequest, now = new Date()): Promise<KeyPair> {
  checkName('common name', request.commonName);
  const sans: x509.JsonGeneralName[] = [];
  for (const d of request.dnsNames) {
    if (!DNS_NAME.test(d) || d.length > 253) throw new CertificateIssueError(`subject alternative name ${JSON.stringify(d)} is not a DNS name`);
    sans.push({ type: 'dns', value: d });
  }
  for (const ip of request.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new CertificateIssueError(`subject alternative name ${JSON.stringify(ip)} is not an IP address`);
    sans.push({ type: 'ip', value: ip });
  }
  if (sans.length === 0) throw new CertificateIssueError('a serving certificate needs at least one DNS name or IP address');
  const times = validity(now, request.validityDays);
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  try {
    caCert = new x509.X509Certificate(ca.certPem);
    const der = Buffer.from(ca.keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    caKey = await subtle.importKey('pkcs8', der, P256, false, ['sign']);
  } catch (err) {
    throw new CertificateIssueError(`the signing CA is not an ECDSA P-256 certificate and PKCS#8 key: ${(err as Error).message}`, { cause: err });
  }
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [request.commonName] }],
    issuer: caCert.subject,
    ...times,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: P256_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: await keyPem(keys) };
}
