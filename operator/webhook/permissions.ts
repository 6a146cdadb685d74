// The permissions the webhook, its certificates and the rollout need, in the
// shape of operator/rbac/permissions.ts (Permission), to be added to the
// operator's tables there: config/rbac is generated from those tables and the
// startup check verifies them.
import type { Permission } from '../rbac/permissions';

export const WEBHOOK_CLUSTER_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'namespaces', verbs: ['get'], why: 'webhook: a namespace not yet in the cache (created a moment ago)' },
  { group: '', resource: 'configmaps', verbs: ['get'], why: 'webhook: a rendered profile not yet in the cache' },
  {
    group: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
    verbs: ['get', 'patch'],
    why: 'webhook: publish the caBundle of the self-managed CA',
  },
  { group: 'apps', resource: 'deployments', verbs: ['get', 'patch'], why: 'rollout: restart workloads whose pods lack the sidecar' },
  { group: 'apps', resource: 'statefulsets', verbs: ['get', 'patch'], why: 'rollout: restart workloads whose pods lack the sidecar' },
  { group: 'apps', resource: 'daemonsets', verbs: ['get', 'patch'], why: 'rollout: restart workloads whose pods lack the sidecar' },
  { group: 'apps', resource: 'replicasets', verbs: ['get'], why: 'rollout: the Deployment that owns a pod' },
];

/** In the operator's namespace. */
export const WEBHOOK_NAMESPACE_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'secrets', verbs: ['get', 'create', 'update'], why: 'webhook: the self-managed TLS Secret (CA and serving certificate)' },
];
