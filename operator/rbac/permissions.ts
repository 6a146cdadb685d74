// Every permission the operator uses, and why: config/rbac/role.yaml is
// generated from this table (operator/crd/generate.ts), the operator checks it
// at startup (access-check.ts) and names what is missing, and an integration
// test runs the operator with exactly these rules.
import { GROUP } from '../api/names';
import { ADMISSION_POLICY_PERMISSIONS } from '../admission-policy/install';
import { WEBHOOK_CLUSTER_PERMISSIONS, WEBHOOK_NAMESPACE_PERMISSIONS } from '../webhook/permissions';
import { TENANT_CA_CLUSTER_PERMISSIONS, TENANT_CA_NAMESPACE_PERMISSIONS } from '../tls-ca/permissions';

export interface Permission {
  group: string;
  resource: string;
  verbs: readonly string[];
  why: string;
}

/** Cluster-wide (ClusterRole kube-dlp-operator). */
export const CLUSTER_PERMISSIONS: readonly Permission[] = [
  { group: '', resource: 'namespaces', verbs: ['list', 'watch', 'patch'], why: 'read opt-in annotations; mirror the injection and tenant labels' },
  {
    group: '',
    resource: 'configmaps',
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
    why: 'rendered profile and tenant directory (server-side apply creates with create, updates with patch)',
  },
  { group: '', resource: 'services', verbs: ['list', 'watch'], why: 'Service cluster IPs for the tenant directory' },
  { group: '', resource: 'pods', verbs: ['list', 'watch'], why: 'Pod IPs for the tenant directory; injected pods for status' },
  {
    group: 'networking.k8s.io',
    resource: 'networkpolicies',
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
    why: 'tenant isolation NetworkPolicy per opted-in namespace',
  },
  { group: 'networking.k8s.io', resource: 'servicecidrs', verbs: ['list', 'watch'], why: 'service ranges for the tenant directory' },
  { group: GROUP, resource: 'securityprofiles', verbs: ['list', 'watch'], why: 'profiles to render' },
  { group: GROUP, resource: 'clustersecurityprofiles', verbs: ['list', 'watch'], why: 'cluster default profiles' },
  { group: GROUP, resource: 'securityprofiles/status', verbs: ['patch'], why: 'conditions and counts' },
  { group: GROUP, resource: 'clustersecurityprofiles/status', verbs: ['patch'], why: 'conditions and counts' },
  { group: 'events.k8s.io', resource: 'events', verbs: ['create'], why: 'Events on profiles and namespaces' },
  {
    group: GROUP,
    resource: 'securityprofileproposals',
    verbs: ['get', 'create', 'patch'],
    why: 'profile proposals learned from what Monitor-mode sidecars observed (server-side apply)',
  },
  ...WEBHOOK_CLUSTER_PERMISSIONS,
  ...ADMISSION_POLICY_PERMISSIONS,
  ...TENANT_CA_CLUSTER_PERMISSIONS,
];

/** In the operator's namespace only (Role kube-dlp-operator-leader-election). */
export const NAMESPACE_PERMISSIONS: readonly Permission[] = [
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], why: 'leader election' },
  ...WEBHOOK_NAMESPACE_PERMISSIONS,
  ...TENANT_CA_NAMESPACE_PERMISSIONS,
];

export const CLUSTER_ROLE_NAME = 'kube-dlp-operator';
export const LEADER_ROLE_NAME = 'kube-dlp-operator-leader-election';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** RBAC rules, one per resource (reviewable line by line), in table order. */
export function rulesOf(permissions: readonly Permission[]): PolicyRule[] {
  return permissions.map((p) => ({ apiGroups: [p.group], resources: [p.resource], verbs: [...p.verbs] }));
}
