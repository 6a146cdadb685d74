// The Secret holding the webhook's self-managed TLS material, and its reading
// into a state the rotation plan works on. Layout (a kubernetes.io/tls Secret,
// so tools that understand tls.crt/tls.key keep working):
//   tls.crt, tls.key        serving certificate and key (what every replica serves)
//   ca.crt                  every CA the API server must trust: the webhook's caBundle
//   ca-signing.crt/.key     the CA that issues serving certificates
//   ca-next.crt/.key        during a CA rotation: the next CA, trusted but not yet issuing
// and the annotation kubedlp.io/tls-changed-at: when trust or the serving
// certificate last changed (the rotation waits from there for every API server
// and replica to catch up). The CA keys sit next to the serving key: whoever
// can read one can impersonate the webhook anyway, and these CAs are trusted
// for nothing else.
import type { KubeObject } from '../model/kube-object';
import { CertificateError } from '../errors';
import { certificateInfo, issuedBy, joinPemBundle, keyMatches, splitPemBundle, type CertificateInfo } from './certificate-info';
import type { KeyPair } from './issue-certificates';

export const TLS_SECRET_NAME = 'kube-dlp-webhook-tls';
export const ANNOTATION_TLS_CHANGED_AT = 'kubedlp.io/tls-changed-at';

export interface TlsMaterial {
  serving: KeyPair;
  /** PEMs, in the order published. */
  trusted: string[];
  signing: KeyPair;
  next?: KeyPair;
  changedAt: Date;
}

export interface TlsState {
  material: TlsMaterial;
  serving: CertificateInfo;
  signing: CertificateInfo;
  next?: CertificateInfo;
  trusted: CertificateInfo[];
  /** Checks that failed (an edited Secret): the plan starts over rather than serve something broken. */
  problems: string[];
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

export function secretFromMaterial(m: TlsMaterial, namespace: string, name = TLS_SECRET_NAME, resourceVersion?: string): KubeObject {
  const data: Record<string, string> = {
    'tls.crt': b64(m.serving.certPem),
    'tls.key': b64(m.serving.keyPem),
    'ca.crt': b64(joinPemBundle(m.trusted)),
    'ca-signing.crt': b64(m.signing.certPem),
    'ca-signing.key': b64(m.signing.keyPem),
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
      name,
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'kube-dlp-operator', 'app.kubernetes.io/component': 'webhook' },
      annotations: { [ANNOTATION_TLS_CHANGED_AT]: m.changedAt.toISOString() },
    },
    data,
  };
}

/** The material in a Secret, or CertificateError when a required key is missing. */
export function materialFromSecret(secret: { data?: Record<string, string>; metadata?: { annotations?: Record<string, string> } }): TlsMaterial {
  const d = secret.data ?? {};
  const get = (k: string) => unb64(d[k]);
  const need = (k: string) => {
    const v = get(k);
    if (!v) throw new CertificateError(`Secret is missing ${k}`);
    return v;
  };
  const changed = Date.parse(secret.metadata?.annotations?.[ANNOTATION_TLS_CHANGED_AT] ?? '');
  const nextCrt = get('ca-next.crt');
  const nextKey = get('ca-next.key');
  return {
    serving: { certPem: need('tls.crt'), keyPem: need('tls.key') },
    trusted: splitPemBundle(need('ca.crt')),
    signing: { certPem: need('ca-signing.crt'), keyPem: need('ca-signing.key') },
    ...(nextCrt && nextKey ? { next: { certPem: nextCrt, keyPem: nextKey } } : {}),
    // Unknown: as if it changed long ago (nothing to wait for).
    changedAt: new Date(Number.isNaN(changed) ? 0 : changed),
  };
}

export function readState(m: TlsMaterial): TlsState {
  const serving = certificateInfo(m.serving.certPem, 'tls.crt');
  const signing = certificateInfo(m.signing.certPem, 'ca-signing.crt');
  const next = m.next ? certificateInfo(m.next.certPem, 'ca-next.crt') : undefined;
  const trusted = m.trusted.map((p, i) => certificateInfo(p, `ca.crt #${i + 1}`));
  const problems: string[] = [];
  const inBundle = (c: CertificateInfo) => trusted.some((t) => t.fingerprint === c.fingerprint);
  if (!keyMatches(serving, m.serving.keyPem)) problems.push('tls.key does not belong to tls.crt');
  if (!keyMatches(signing, m.signing.keyPem)) problems.push('ca-signing.key does not belong to ca-signing.crt');
  if (!signing.isCa) problems.push('ca-signing.crt is not a CA');
  if (!inBundle(signing)) problems.push('the signing CA is not in ca.crt');
  if (!trusted.some((t) => issuedBy(serving, t))) problems.push('tls.crt is not issued by any CA in ca.crt');
  if (next) {
    if (!m.next || !keyMatches(next, m.next.keyPem)) problems.push('ca-next.key does not belong to ca-next.crt');
    if (!inBundle(next)) problems.push('the next CA is not in ca.crt');
  }
  return { material: m, serving, signing, next, trusted, problems };
}
