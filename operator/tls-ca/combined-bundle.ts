// The combined CA bundle app containers point SSL_CERT_FILE (and friends)
// at: the system roots plus the tenant's interception CAs. Most runtimes read
// one file *instead of* the system store, so the tenant CA alone would break
// every HTTPS call the proxy passes through (bypassed hosts) and every
// connection made before interception applies.
import { X509Certificate } from 'node:crypto';
import { parsePemBundle } from '../../proxy/tls/pem-bundle';

export interface CombinedBundle {
  text: string;
  systemCount: number;
  /** SHA-256 fingerprints of the tenant CAs (logged: certificates are public, no key is ever read here). */
  tenantFingerprints: string[];
}

/** Tenant CAs (checked: each must be a CA) and system roots, de-duplicated, tenant first. */
export function combineBundles(tenantPem: string, systemPems: readonly string[]): CombinedBundle {
  let tenant: string[];
  try {
    tenant = parsePemBundle(tenantPem);
  } catch (err) {
    throw new Error(`the tenant CA bundle ${(err as Error).message}`);
  }
  const seen = new Set<string>();
  const out: string[] = [];
  const tenantFingerprints: string[] = [];
  for (const pem of tenant) {
    const cert = new X509Certificate(pem);
    if (!cert.ca) throw new Error(`the tenant CA bundle holds a certificate that is not a CA (${cert.subject.replace(/\n/g, ', ')})`);
    if (seen.has(cert.fingerprint256)) continue;
    seen.add(cert.fingerprint256);
    tenantFingerprints.push(cert.fingerprint256);
    out.push(pem.trim());
  }
  let systemCount = 0;
  for (const pem of systemPems) {
    let fp: string;
    try {
      fp = new X509Certificate(pem).fingerprint256;
    } catch {
      continue; // a system store may hold entries Node cannot read; they would not verify anything here either
    }
    if (seen.has(fp)) continue;
    seen.add(fp);
    systemCount++;
    out.push(pem.trim());
  }
  return { text: `${out.join('\n')}\n`, systemCount, tenantFingerprints };
}
