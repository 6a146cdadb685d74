// Every permission the operator uses, and why, in one table (the webhook's
// and the admission policy's too): config/rbac/role.yaml is
// generated from this table (operator/crd/generate.ts), the operator checks it
// at startup (access-check.ts) and names what is missing, and an integration
// test runs the operator with exactly these rules.
import { GROUP } from '../api/names';
import { NAMESPACE_CA_SECRET } from '../tls-ca/names';

export interface Permission {
  group: string;
  resource: string;
  verbs: readonly string[];
  /** Only these objects (RBAC resourceNames); create cannot be narrowed this way, so create rules never carry it. */
  resourceNames?: readonly string[];
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
  // The sidecar injector, its certificates and the rollout.
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
  // The ValidatingAdmissionPolicy the operator installs.
  {
    group: 'admissionregistration.k8s.io',
    resource: 'validatingadmissionpolicies',
    verbs: ['create', 'patch'],
    why: 'admission policy: refuse pods without the genuine sidecar even while the operator is down',
  },
  {
    group: 'admissionregistration.k8s.io',
    resource: 'validatingadmissionpolicybindings',
    verbs: ['create', 'patch'],
    why: 'admission policy: bind it to opted-in namespaces',
  },
  // The tenant interception CA: a pod mounts Secrets of its own namespace
  // only, so each intercepting namespace gets a copy (operator/tls-ca/names.ts).
  // Cluster-wide, but narrowed to that one name: the operator can read no
  // other Secret of any tenant. RBAC cannot narrow create by name (the name
  // is not known when create is authorized), and create reveals nothing.
  {
    group: '',
    resource: 'secrets',
    verbs: ['create'],
    why: 'tenant CA: create the copy kube-dlp-intercept-ca in a namespace that intercepts TLS',
  },
  {
    group: '',
    resource: 'secrets',
    verbs: ['get', 'patch', 'delete'],
    resourceNames: [NAMESPACE_CA_SECRET],
    why: 'tenant CA: keep that copy in step with the tenant CA (only the sidecar mounts it), remove it on opt-out',
  },
];

/** In the operator's namespace only (Role kube-dlp-operator-leader-election). */
export const NAMESPACE_PERMISSIONS: readonly Permission[] = [
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], why: 'leader election' },
  { group: '', resource: 'secrets', verbs: ['get', 'create', 'update'], why: 'webhook: the self-managed TLS Secret (CA and serving certificate)' },
  { group: '', resource: 'secrets', verbs: ['list', 'delete'], why: 'tenant CA: one Secret per tenant, removed when the tenant has no namespace left' },
];

export const CLUSTER_ROLE_NAME = 'kube-dlp-operator';
export const LEADER_ROLE_NAME = 'kube-dlp-operator-leader-election';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** RBAC rules, one per resource (reviewable line by line), in table order. */
export function rulesOf(permissions: readonly Permission[]): PolicyRule[] {
  return permissions.map((p) => ({
    apiGroups: [p.group],
    resources: [p.resource],
    ...(p.resourceNames ? { resourceNames: [...p.resourceNames] } : {}),
    verbs: [...p.verbs],
  }));
}
