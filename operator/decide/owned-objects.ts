// The objects the operator owns in an opted-in namespace, as pure functions
// of what should be there. Reconcile applies them with server-side apply, so
// each is the complete intent of the operator for that object: a field left
// out here is a field the operator gives up.
import { sharedSelectorsOf, type NamespaceSelector } from './shared-namespaces';
import {
  API_VERSION,
  ENFORCEMENT_MONITOR,
  ENFORCEMENT_PROTECT,
  EXEMPTION_ANNOTATION_PREFIX,
  INJECTION_ENABLED,
  LABEL_ENFORCEMENT,
  LABEL_INJECTION,
  LABEL_MANAGED_BY,
  LABEL_NAMESPACE_NAME,
  LABEL_TENANT,
  MANAGED_BY_VALUE,
  PROFILE_CONFIGMAP,
  PROFILE_CONFIGMAP_KEY,
  PROFILE_DATABASES_KEY,
  SYSTEM_NAMESPACES,
  TENANT_NETWORK_POLICY,
  TENANTS_CONFIGMAP,
  TENANTS_CONFIGMAP_KEY,
} from '../api/names';
import type { KubeObject, OwnerReference } from '../model/kube-object';
import type { ProfileView } from '../model/views';
import type { TenancySpec } from '../../proxy/profile/schema';

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

/**
 * `databases`: the profile's compiled Vectorscan databases, base64 (from
 * validation), so sidecars deserialize instead of compiling; without it the
 * ConfigMap has no binaryData and sidecars compile.
 */
export function desiredProfileConfigMap(namespace: string, rendered: string, owner: ProfileView, databases?: string): KubeObject {
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
    ...(databases ? { binaryData: { [PROFILE_DATABASES_KEY]: databases } } : {}),
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
 * The profile's tenancy.networkPolicy, as stored (API-server defaults
 * applied), and its tenancy.sharedNamespaces: what the sidecar lets through
 * as shared, the network must not cut off.
 */
export type NetworkPolicyIntent = NonNullable<TenancySpec['networkPolicy']> & { sharedNamespaces?: readonly NamespaceSelector[] };

const byName = (name: string) => ({ namespaceSelector: { matchLabels: { [LABEL_NAMESPACE_NAME]: name } } });
const isV6 = (cidr: string) => cidr.includes(':');

/**
 * The namespace's NetworkPolicy, or undefined when its profile asks for none
 * (tenancy.networkPolicy absent). Tenants are told apart by the
 * kubedlp.io/tenant label the operator itself mirrors, so a namespace cannot
 * claim a tenant by labelling itself without the annotation being honoured.
 * - Ingress: the same tenant, kube-system (probes from the node come from the
 *   node, not a namespace), the operator, and the exceptions (ingress
 *   controllers, monitoring): a policy that cut those off would take the
 *   workload off the cluster around it.
 * - Egress: the same tenant, the exceptions and the shared namespaces, DNS in kube-system, and external
 *   destinations minus the cluster's own ranges, so another tenant is not
 *   reachable by address either. What leaves the cluster is then the
 *   sidecar's decision.
 */
export function desiredNetworkPolicy(
  namespace: string,
  tenant: string,
  operatorNamespace: string,
  intent: NetworkPolicyIntent | undefined,
): KubeObject | undefined {
  if (!intent || (!intent.ingress && !intent.egress)) return undefined;
  const sameTenant = { namespaceSelector: { matchLabels: { [LABEL_TENANT]: tenant } } };
  const selectors = (list: readonly { matchLabels: Record<string, string> }[]) =>
    list.map((s) => ({ namespaceSelector: { matchLabels: { ...s.matchLabels } } }));
  const spec: Record<string, unknown> = { podSelector: {}, policyTypes: [] as string[] };
  const types = spec.policyTypes as string[];
  if (intent.ingress) {
    types.push('Ingress');
    const exempt = [...new Set([SYSTEM_NAMESPACES[0]!, operatorNamespace])];
    spec.ingress = [{ from: [sameTenant, ...exempt.map(byName), ...selectors(intent.allowIngressFrom)] }];
  }
  if (intent.egress) {
    types.push('Egress');
    const peers = [sameTenant, ...selectors(intent.allowEgressTo), ...selectors(intent.sharedNamespaces ?? [])];
    const egress: unknown[] = [{ to: peers.filter((p, i) => peers.findIndex((q) => JSON.stringify(q) === JSON.stringify(p)) === i) }];
    if (intent.dns) {
      egress.push({
        to: [byName(SYSTEM_NAMESPACES[0]!)],
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      });
    }
    if (intent.externalCidrs.length > 0) {
      egress.push({
        to: intent.externalCidrs.map((cidr) => {
          const except = intent.clusterCidrs.filter((c) => isV6(c) === isV6(cidr));
          return { ipBlock: except.length > 0 ? { cidr, except } : { cidr } };
        }),
      });
    }
    spec.egress = egress;
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: TENANT_NETWORK_POLICY, namespace, labels: ownedLabels() },
    spec,
  };
}

/** The intent of a profile's spec as stored, or undefined. */
export function networkPolicyIntentOf(spec: unknown): NetworkPolicyIntent | undefined {
  const np = (spec as { tenancy?: { networkPolicy?: Partial<NetworkPolicyIntent> } } | undefined)?.tenancy?.networkPolicy;
  if (!np) return undefined;
  // Defaults as the schema's, for a spec stored before a field existed.
  return {
    ingress: np.ingress ?? true,
    egress: np.egress ?? true,
    allowIngressFrom: np.allowIngressFrom ?? [],
    allowEgressTo: np.allowEgressTo ?? [],
    dns: np.dns ?? true,
    externalCidrs: np.externalCidrs ?? ['0.0.0.0/0', '::/0'],
    clusterCidrs: np.clusterCidrs ?? [],
    sharedNamespaces: sharedSelectorsOf(spec),
  };
}

/** What the namespace's profile says about enforcement, as the admission checks need it. */
export interface NamespaceEnforcement {
  tenant: string;
  /** Undefined when no profile resolves: the admission checks then treat the namespace as Protect. */
  mode?: 'Monitor' | 'Protect';
  exemptions: readonly { name: string; reason: string }[];
}

/** The labels the operator keeps on a namespace: set when opted in, none otherwise. */
export function desiredNamespaceLabels(optedIn: NamespaceEnforcement | undefined): Record<string, string> {
  if (!optedIn) return {};
  return {
    [LABEL_INJECTION]: INJECTION_ENABLED,
    [LABEL_TENANT]: optedIn.tenant,
    // Fail closed: only a profile that says Monitor relaxes the pod opt-out.
    [LABEL_ENFORCEMENT]: optedIn.mode === 'Monitor' ? ENFORCEMENT_MONITOR : ENFORCEMENT_PROTECT,
  };
}

/** One annotation per granted exemption, read by the webhook and the ValidatingAdmissionPolicy. */
export function desiredNamespaceAnnotations(optedIn: NamespaceEnforcement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of optedIn?.exemptions ?? []) out[`${EXEMPTION_ANNOTATION_PREFIX}${e.name}`] = e.reason;
  return out;
}

/** The mode and exemptions of a profile's spec as stored (defaults applied by the API server or absent). */
export function enforcementOf(spec: unknown): Pick<NamespaceEnforcement, 'mode' | 'exemptions'> {
  const s = (spec ?? {}) as { mode?: unknown; exemptions?: unknown };
  const mode = s.mode === 'Protect' ? 'Protect' : 'Monitor';
  const exemptions = Array.isArray(s.exemptions)
    ? s.exemptions.filter(
        (e): e is { name: string; reason: string } => typeof e?.name === 'string' && typeof e?.reason === 'string',
      )
    : [];
  return { mode, exemptions };
}
