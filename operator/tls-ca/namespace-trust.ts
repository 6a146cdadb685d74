// The copies of a tenant's CA in one namespace, as pure functions of the
// tenant's trust (see names.ts for why there are copies at all). Owned by the
// profile, like the rendered profile: the garbage collector removes them with
// it, and reconcile removes them when interception is switched off.
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../api/names';
import { ownerReferenceTo } from '../decide/owned-objects';
import type { KubeObject } from '../model/kube-object';
import type { ProfileView } from '../model/views';
import { NAMESPACE_CA_SECRET, TRUST_BUNDLE_CONFIGMAP, TRUST_BUNDLE_KEY } from './names';
import type { TenantTrust } from './tenant-ca-store';

const labels = () => ({ [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, 'app.kubernetes.io/part-of': 'kube-dlp', 'app.kubernetes.io/component': 'tenant-ca' });

/** The signing CA with its key: mounted into the sidecar only. */
export function desiredNamespaceCaSecret(namespace: string, trust: TenantTrust, owner: ProfileView): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: NAMESPACE_CA_SECRET, namespace, labels: labels(), ownerReferences: [ownerReferenceTo(owner)] },
    data: {
      'tls.crt': Buffer.from(trust.signing.certPem).toString('base64'),
      'tls.key': Buffer.from(trust.signing.keyPem).toString('base64'),
    },
  };
}

/** The CA certificates clients trust, no key: mounted into app containers. */
export function desiredTrustBundleConfigMap(namespace: string, trust: TenantTrust, owner: ProfileView): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TRUST_BUNDLE_CONFIGMAP, namespace, labels: labels(), ownerReferences: [ownerReferenceTo(owner)] },
    data: { [TRUST_BUNDLE_KEY]: trust.bundlePem },
  };
}

/** True when the profile's spec (as stored) asks for interception. */
export function interceptEnabled(spec: unknown): boolean {
  return (spec as { tls?: { intercept?: unknown } } | undefined)?.tls?.intercept === 'Enabled';
}
