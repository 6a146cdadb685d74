// Every API resource the operator, its webhook, its certificates, the
// rollout and the admission policy read or write, with their REST paths: one
// table. config/rbac/role.yaml is generated from permissions.ts, which names
// these.
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const apiVersionOf = (r: ResourceType): string => (r.group ? `${r.group}/${r.version}` : r.version);

function base(r: ResourceType): string {
  return r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
}

/** Collection path: all namespaces when `namespace` is undefined (namespaced resources). */
export function collectionPath(r: ResourceType, namespace?: string): string {
  if (r.namespaced && namespace !== undefined) return `${base(r)}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
  return `${base(r)}/${r.plural}`;
}

export function objectPath(r: ResourceType, name: string, namespace?: string, subresource?: string): string {
  if (r.namespaced && namespace === undefined) throw new TypeError(`${r.kind} ${name}: namespace required`);
  const path = `${collectionPath(r, r.namespaced ? namespace : undefined)}/${encodeURIComponent(name)}`;
  return subresource ? `${path}/${subresource}` : path;
}

const core = (plural: string, kind: string, namespaced = true): ResourceType => ({ group: '', version: 'v1', plural, kind, namespaced });

export const NAMESPACES = core('namespaces', 'Namespace', false);
export const CONFIG_MAPS = core('configmaps', 'ConfigMap');
export const SERVICES = core('services', 'Service');
export const PODS = core('pods', 'Pod');
export const NETWORK_POLICIES: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true };
export const SERVICE_CIDRS: ResourceType = { group: 'networking.k8s.io', version: 'v1', plural: 'servicecidrs', kind: 'ServiceCIDR', namespaced: false };
export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
export const EVENTS: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const SECURITY_PROFILES: ResourceType = { group: 'kubedlp.io', version: 'v1alpha1', plural: 'securityprofiles', kind: 'SecurityProfile', namespaced: true };
export const CLUSTER_SECURITY_PROFILES: ResourceType = {
  group: 'kubedlp.io',
  version: 'v1alpha1',
  plural: 'clustersecurityprofiles',
  kind: 'ClusterSecurityProfile',
  namespaced: false,
};
export const SECURITY_PROFILE_PROPOSALS: ResourceType = {
  group: 'kubedlp.io',
  version: 'v1alpha1',
  plural: 'securityprofileproposals',
  kind: 'SecurityProfileProposal',
  namespaced: true,
};
export const SELF_SUBJECT_ACCESS_REVIEWS: ResourceType = {
  group: 'authorization.k8s.io',
  version: 'v1',
  plural: 'selfsubjectaccessreviews',
  kind: 'SelfSubjectAccessReview',
  namespaced: false,
};
export const SECRETS = core('secrets', 'Secret');
const admissionRegistration = (plural: string, kind: string): ResourceType => ({
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural,
  kind,
  namespaced: false,
});
export const MUTATING_WEBHOOK_CONFIGURATIONS = admissionRegistration('mutatingwebhookconfigurations', 'MutatingWebhookConfiguration');
export const VALIDATING_ADMISSION_POLICIES = admissionRegistration('validatingadmissionpolicies', 'ValidatingAdmissionPolicy');
export const VALIDATING_ADMISSION_POLICY_BINDINGS = admissionRegistration('validatingadmissionpolicybindings', 'ValidatingAdmissionPolicyBinding');
const apps = (plural: string, kind: string): ResourceType => ({ group: 'apps', version: 'v1', plural, kind, namespaced: true });
export const DEPLOYMENTS = apps('deployments', 'Deployment');
export const STATEFUL_SETS = apps('statefulsets', 'StatefulSet');
export const DAEMON_SETS = apps('daemonsets', 'DaemonSet');
export const REPLICA_SETS = apps('replicasets', 'ReplicaSet');
