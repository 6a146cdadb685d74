// What the tenant CA needs, in the shape of operator/rbac/permissions.ts.
// Writing Secrets cluster-wide is the price of the per-namespace copy: a pod
// can only mount a Secret of its own namespace.
import type { Permission } from '../rbac/permissions';

export const TENANT_CA_CLUSTER_PERMISSIONS: readonly Permission[] = [
  {
    group: '',
    resource: 'secrets',
    verbs: ['get', 'create', 'patch', 'delete'],
    why: 'tenant CA: the copy kube-dlp-intercept-ca in each namespace that intercepts TLS (only the sidecar mounts it)',
  },
];

/** In the operator's namespace. */
export const TENANT_CA_NAMESPACE_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'secrets', verbs: ['list', 'delete'], why: 'tenant CA: one Secret per tenant, removed when the tenant has no namespace left' },
];
