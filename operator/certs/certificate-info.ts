// Reading certificates with node:crypto's X509Certificate: validity, issuer
// match, names. Everything the rotation plan needs, as plain values.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { CertificateError } from '../errors';

export interface CertificateInfo {
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint: how CAs in a bundle are told apart. */
  fingerprint: string;
  isCa: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  x509: X509Certificate;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle, in order. */
export function splitPemBundle(pem: string): string[] {
  return (pem.match(PEM_CERT) ?? []).map((c) => `${c}\n`);
}

export function joinPemBundle(certs: readonly string[]): string {
  return certs.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
}

export function certificateInfo(pem: string, what = 'certificate'): CertificateInfo {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(pem);
  } catch (err) {
    throw new CertificateError(`${what} is not a PEM X.509 certificate: ${(err as Error).message}`, { cause: err });
  }
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const part of (x509.subjectAltName ?? '').split(',').map((s) => s.trim())) {
    if (part.startsWith('DNS:')) dnsNames.push(part.slice(4));
    else if (part.startsWith('IP Address:')) ipAddresses.push(part.slice(11));
  }
  return {
    subject: x509.subject,
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    fingerprint: x509.fingerprint256,
    isCa: x509.ca,
    dnsNames,
    ipAddresses,
    x509,
  };
}

/** True when `issuer` signed `cert` (names match and the signature verifies). */
export function issuedBy(cert: CertificateInfo, issuer: CertificateInfo): boolean {
  return cert.x509.checkIssued(issuer.x509) && cert.x509.verify(issuer.x509.publicKey);
}

/** True when the private key belongs to the certificate. */
export function keyMatches(cert: CertificateInfo, keyPem: string): boolean {
  try {
    return cert.x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}
