// The tenant CA Secret in the operator's namespace and its reading into a
// state the plan works on. Layout (kubernetes.io/tls, as cert-manager writes
// a CA Certificate's Secret, so either source reads the same):
//   tls.crt, tls.key      the CA that signs leaves now
//   ca.crt                every CA clients must trust (the signing one, plus
//                         the next or the previous during a rotation)
//   ca-next.crt/.key      during a rotation: the next CA, trusted, not yet signing
// and the annotation kubedlp.io/ca-changed-at.
import { certificateInfo, joinPemBundle, keyMatches, splitPemBundle, type CertificateInfo } from '../certs/certificate-info';
import type { KeyPair } from '../certs/issue-certificates';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../api/names';
import type { KubeObject } from '../model/kube-object';
import { ANNOTATION_CA_CHANGED_AT, ANNOTATION_CERT_MANAGER_CERTIFICATE, LABEL_TENANT_CA, tenantCaSecretName } from './names';

export interface TenantCaMaterial {
  signing: KeyPair;
  /** PEMs clients trust, in order. */
  trusted: string[];
  next?: KeyPair;
  changedAt: Date;
}

export interface TenantCaState {
  material: TenantCaMaterial;
  signing: CertificateInfo;
  next?: CertificateInfo;
  trusted: CertificateInfo[];
  /** Written by cert-manager: consumed as it is, never rotated by the operator. */
  external: boolean;
  /** Checks that failed (an edited Secret): a self-managed CA starts over rather than sign with something broken. */
  problems: string[];
}

export interface SecretLike {
  data?: Record<string, string>;
  metadata?: { annotations?: Record<string, string>; resourceVersion?: string; labels?: Record<string, string> };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

export function tenantCaSecret(tenant: string, namespace: string, m: TenantCaMaterial, resourceVersion?: string): KubeObject {
  const data: Record<string, string> = {
    'tls.crt': b64(m.signing.certPem),
    'tls.key': b64(m.signing.keyPem),
    'ca.crt': b64(joinPemBundle(m.trusted)),
  };
  if (m.next) {
    data['ca-next.crt'] = b64(m.next.certPem);
    data['ca-next.key'] = b64(m.next.keyPem);
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name: tenantCaSecretName(tenant),
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, 'app.kubernetes.io/component': 'tenant-ca', [LABEL_TENANT_CA]: tenant },
      annotations: { [ANNOTATION_CA_CHANGED_AT]: m.changedAt.toISOString() },
    },
    data,
  };
}

/** The state of a tenant CA Secret; a Secret missing tls.crt or tls.key reads as a problem, never as a throw. */
export function readTenantCa(secret: SecretLike): TenantCaState | { problems: string[]; external: boolean } {
  const d = secret.data ?? {};
  const external = secret.metadata?.annotations?.[ANNOTATION_CERT_MANAGER_CERTIFICATE] !== undefined;
  const crt = unb64(d['tls.crt']);
  const key = unb64(d['tls.key']);
  if (!crt || !key) return { problems: ['the Secret has no tls.crt or tls.key'], external };
  const problems: string[] = [];
  let signing: CertificateInfo;
  try {
    signing = certificateInfo(crt, 'tls.crt');
  } catch (err) {
    return { problems: [(err as Error).message], external };
  }
  // cert-manager puts the issuing CA in ca.crt; for a self-signed CA that is the CA itself.
  const bundle = splitPemBundle(unb64(d['ca.crt']) ?? '');
  const trusted: string[] = [];
  const seen = new Set<string>();
  const infos: CertificateInfo[] = [];
  for (const pem of [...bundle, ...(external ? splitPemBundle(crt) : [])]) {
    try {
      const info = certificateInfo(pem, 'ca.crt');
      if (seen.has(info.fingerprint)) continue;
      seen.add(info.fingerprint);
      trusted.push(pem);
      infos.push(info);
    } catch {
      problems.push('ca.crt holds something that is not a certificate');
    }
  }
  if (!signing.isCa) problems.push('tls.crt is not a CA certificate');
  if (!keyMatches(signing, key)) problems.push('tls.key does not belong to tls.crt');
  if (!seen.has(signing.fingerprint)) problems.push('the signing CA is not in ca.crt');
  const nextCrt = unb64(d['ca-next.crt']);
  const nextKey = unb64(d['ca-next.key']);
  let next: CertificateInfo | undefined;
  if (nextCrt && nextKey) {
    try {
      next = certificateInfo(nextCrt, 'ca-next.crt');
      if (!keyMatches(next, nextKey)) problems.push('ca-next.key does not belong to ca-next.crt');
      if (!seen.has(next.fingerprint)) problems.push('the next CA is not in ca.crt');
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const changed = Date.parse(secret.metadata?.annotations?.[ANNOTATION_CA_CHANGED_AT] ?? '');
  return {
    material: {
      signing: { certPem: crt, keyPem: key },
      trusted,
      ...(next && nextCrt && nextKey ? { next: { certPem: nextCrt, keyPem: nextKey } } : {}),
      // Unknown: as if it changed long ago (nothing to wait for).
      changedAt: new Date(Number.isNaN(changed) ? 0 : changed),
    },
    signing,
    next,
    trusted: infos,
    external,
    problems,
  };
}

export function isUsable(s: ReturnType<typeof readTenantCa>): s is TenantCaState {
  return 'material' in s;
}
