// The objects the operator owns in an opted-in namespace, as pure functions
// of what should be there. Reconcile applies them with server-side apply, so
// each is the complete intent of the operator for that object: a field left
// out here is a field the operator gives up.
import {
  API_VERSION,
  INJECTION_ENABLED,
  LABEL_INJECTION,
  LABEL_MANAGED_BY,
  LABEL_NAMESPACE_NAME,
  LABEL_TENANT,
  MANAGED_BY_VALUE,
  PROFILE_CONFIGMAP,
  PROFILE_CONFIGMAP_KEY,
  SYSTEM_NAMESPACES,
  TENANT_NETWORK_POLICY,
  TENANTS_CONFIGMAP,
  TENANTS_CONFIGMAP_KEY,
} from '../api/names';
import type { KubeObject, OwnerReference } from '../model/kube-object';
import type { ProfileView } from '../model/views';

const ownedLabels = (): Record<string, string> => ({
  [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  'app.kubernetes.io/part-of': 'kube-dlp',
});

/**
 * The profile owns its renderings: in a real cluster the garbage collector
 * removes them with it, even while the operator is down. (The operator
 * removes them itself too; it does not rely on the collector.)
 */
export function ownerReferenceTo(profile: ProfileView): OwnerReference {
  return { apiVersion: API_VERSION, kind: profile.kind, name: profile.name, uid: profile.uid, controller: true };
}

export function desiredProfileConfigMap(namespace: string, rendered: string, owner: ProfileView): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: PROFILE_CONFIGMAP,
      namespace,
      labels: ownedLabels(),
      ownerReferences: [ownerReferenceTo(owner)],
    },
    data: { [PROFILE_CONFIGMAP_KEY]: rendered },
  };
}

export function desiredTenantsConfigMap(namespace: string, directory: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TENANTS_CONFIGMAP, namespace, labels: ownedLabels() },
    data: { [TENANTS_CONFIGMAP_KEY]: directory },
  };
}

/**
 * Ingress only from namespaces of the same tenant, plus kube-system (DNS,
 * metrics-server) and the operator's namespace. Tenants are told apart by the
 * kubedlp.io/tenant label the operator itself mirrors, so a namespace cannot
 * claim a tenant by labelling itself without the annotation being honoured.
 */
export function desiredNetworkPolicy(namespace: string, tenant: string, operatorNamespace: string): KubeObject {
  const exempt = [...new Set([SYSTEM_NAMESPACES[0], operatorNamespace])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: TENANT_NETWORK_POLICY, namespace, labels: ownedLabels() },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { [LABEL_TENANT]: tenant } } },
            ...exempt.map((name) => ({ namespaceSelector: { matchLabels: { [LABEL_NAMESPACE_NAME]: name } } })),
          ],
        },
      ],
    },
  };
}

/** The labels the operator keeps on a namespace: set when opted in, none otherwise. */
export function desiredNamespaceLabels(optedIn: { tenant: string } | undefined): Record<string, string> {
  return optedIn ? { [LABEL_INJECTION]: INJECTION_ENABLED, [LABEL_TENANT]: optedIn.tenant } : {};
}
