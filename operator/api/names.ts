// Every name the operator shares with the outside world: the API group, the
// annotations users write, the labels and objects the operator writes. One
// file, so the webhook (part 2), the manifests and the tests agree by import.
import { API_VERSION } from '../../proxy/profile/document-kinds';

export const GROUP = 'kubedlp.io';
export const VERSION = 'v1alpha1';
export { API_VERSION };

export const KIND_SECURITY_PROFILE = 'SecurityProfile';
export const KIND_CLUSTER_SECURITY_PROFILE = 'ClusterSecurityProfile';
export type ProfileKindName = typeof KIND_SECURITY_PROFILE | typeof KIND_CLUSTER_SECURITY_PROFILE;

export const PLURAL_SECURITY_PROFILES = 'securityprofiles';
export const PLURAL_CLUSTER_SECURITY_PROFILES = 'clustersecurityprofiles';

/** Namespace annotation a team writes to opt in: `enabled` (or `disabled`). */
export const ANNOTATION_INJECT = 'kubedlp.io/inject';
/** Namespace annotation naming the profile; `default` when absent. */
export const ANNOTATION_PROFILE = 'kubedlp.io/profile';
/** Namespace annotation naming the tenant; the namespace name when absent. */
export const ANNOTATION_TENANT = 'kubedlp.io/tenant';
/**
 * Written by the operator on an opted-in namespace: which profile it got and
 * why (`rendered: SecurityProfile payments/protect-payments`), or
 * `missing: ...` when the profile it names does not exist. The webhook
 * refuses pods while it says missing (see README, "A profile that disappears").
 */
export const ANNOTATION_PROFILE_STATUS = 'kubedlp.io/profile-status';
export const PROFILE_STATUS_MISSING_PREFIX = 'missing: ';

export const INJECT_ENABLED = 'enabled';
export const INJECT_DISABLED = 'disabled';
export const DEFAULT_PROFILE_NAME = 'default';

/**
 * Labels the operator mirrors from the annotations: webhooks and
 * NetworkPolicies can only select by labels, and users must not be able to
 * opt in by writing the label alone (the operator owns it).
 */
export const LABEL_INJECTION = 'kubedlp.io/injection';
export const LABEL_TENANT = 'kubedlp.io/tenant';
export const INJECTION_ENABLED = 'enabled';

/**
 * Namespace label the operator mirrors from the resolved profile's mode: the
 * injection webhook and the ValidatingAdmissionPolicy read it to decide
 * whether a pod may opt itself out. Absent counts as protect (fail closed).
 */
export const LABEL_ENFORCEMENT = 'kubedlp.io/enforcement';
export const ENFORCEMENT_PROTECT = 'protect';
export const ENFORCEMENT_MONITOR = 'monitor';

/**
 * Namespace annotations the operator mirrors from the profile's
 * spec.exemptions, one per granted exemption (`exemption.kubedlp.io/NAME:
 * reason`). Namespaces are cluster-scoped, so a tenant who can create pods
 * cannot grant itself one; the policy reads them through namespaceObject.
 */
export const EXEMPTION_ANNOTATION_PREFIX = 'exemption.kubedlp.io/';
/** Pod label naming the exemption a pod that opts out claims. */
export const LABEL_EXEMPTION = 'kubedlp.io/exemption';

/**
 * Pods carrying this label have the sidecar; the injection webhook (part 2)
 * sets it. The operator only counts such pods for the profiles' status.
 */
export const LABEL_INJECTED_POD = 'kubedlp.io/injected';

/** Set by the apiserver on every namespace since Kubernetes 1.21; NetworkPolicies select system namespaces by it. */
export const LABEL_NAMESPACE_NAME = 'kubernetes.io/metadata.name';

/** Marks every object the operator creates, so its informers watch only those. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kube-dlp-operator';
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

/** Field manager for server-side apply of everything the operator owns. */
export const FIELD_MANAGER = 'kube-dlp-operator';
/** `reportingController` of the operator's Events. */
export const REPORTING_CONTROLLER = 'kubedlp.io/operator';

/** ConfigMap holding the rendered profile, mounted by the sidecar. */
export const PROFILE_CONFIGMAP = 'kube-dlp-profile';
export const PROFILE_CONFIGMAP_KEY = 'profile.yaml';
/** binaryData key: the profile's compiled Vectorscan databases (proxy/scan/engines/database-bundle.ts); the sidecar reads it beside profile.yaml. */
export const PROFILE_DATABASES_KEY = 'scanner.hsbundle';
/** ConfigMap holding the tenant directory, mounted by the sidecar. */
export const TENANTS_CONFIGMAP = 'kube-dlp-tenants';
export const TENANTS_CONFIGMAP_KEY = 'tenants.yaml';
/** NetworkPolicy admitting ingress from the namespace's own tenant only. */
export const TENANT_NETWORK_POLICY = 'kube-dlp-tenant-isolation';

/** Default name of the operator's leader-election Lease. */
export const LEADER_LEASE_NAME = 'kube-dlp-operator';

/** Namespaces that never opt in: the sidecar must not sit in front of the control plane's own workloads. */
export const SYSTEM_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease'];
