// Reconciles one namespace, level-based: read the caches, compute what the
// operator should have there, change only what differs. Never asks which
// event arrived. The same pass cleans up a namespace that opted out.
import { EVENT_REASONS } from '../api/conditions';
import {
  ANNOTATION_PROFILE,
  ANNOTATION_PROFILE_STATUS,
  DEFAULT_PROFILE_NAME,
  EXEMPTION_ANNOTATION_PREFIX,
  LABEL_ENFORCEMENT,
  LABEL_INJECTION,
  LABEL_TENANT,
  PROFILE_STATUS_MISSING_PREFIX,
  PROFILE_CONFIGMAP,
  TENANT_NETWORK_POLICY,
  TENANTS_CONFIGMAP,
  FIELD_MANAGER,
} from '../api/names';
import { decideOptIn, type OptInContext } from '../decide/opt-in';
import {
  desiredNamespaceAnnotations,
  desiredNamespaceLabels,
  enforcementOf,
  networkPolicyIntentOf,
  type NamespaceEnforcement,
  desiredNetworkPolicy,
  desiredProfileConfigMap,
  desiredTenantsConfigMap,
} from '../decide/owned-objects';
import { renderProfile } from '../decide/render-profile';
import { resolveProfile } from '../decide/resolve-profile';
import type { KubeClient } from '../kube/client';
import type { EventSink } from '../kube/events';
import type { Logger } from '../kube/logger';
import { CONFIG_MAPS, NAMESPACES, NETWORK_POLICIES } from '../kube/resources';
import type { NamespaceView } from '../model/views';
import type { ProfileValidator } from '../validation/profile-validator';
import type { ClusterCaches } from './caches';
import type { DirectoryPublisher } from './directory-publisher';
import type { ManagedNamespace } from './managed-namespaces';
import { OwnedWriter } from './owned-writer';
import { NAMESPACE_CA_SECRET, TRUST_BUNDLE_CONFIGMAP } from '../tls-ca/names';
import { desiredNamespaceCaSecret, desiredTrustBundleConfigMap, interceptEnabled } from '../tls-ca/namespace-trust';
import { SecretWriter } from '../tls-ca/secret-writer';
import { resolveUpstreamCa } from '../tls-ca/upstream-ca';
import type { TenantCaStore } from '../tls-ca/tenant-ca-store';

export interface NamespaceReconcilerDeps {
  client: KubeClient;
  caches: ClusterCaches;
  validator: ProfileValidator;
  directory: DirectoryPublisher;
  events: EventSink;
  ctx: OptInContext;
  log: Logger;
  /** Tenant interception CAs; without it a profile's tls.intercept gets no CA (the sidecar then keeps tunnels opaque). */
  tenantCa?: TenantCaStore;
}

/** What a pass did, for logs and tests. */
export interface NamespaceOutcome {
  decision: ReturnType<typeof decideOptIn>['kind'] | 'gone';
  reason?: string;
  writes: string[];
}

export class NamespaceReconciler {
  readonly configMaps: OwnedWriter;
  readonly networkPolicies: OwnedWriter;
  private readonly secrets: SecretWriter;

  constructor(private readonly deps: NamespaceReconcilerDeps) {
    this.secrets = new SecretWriter(deps.client);
    this.configMaps = new OwnedWriter(deps.client, CONFIG_MAPS, deps.caches.configMaps);
    this.networkPolicies = new OwnedWriter(deps.client, NETWORK_POLICIES, deps.caches.networkPolicies);
  }

  async reconcile(name: string): Promise<NamespaceOutcome> {
    const { caches, ctx, events } = this.deps;
    const ns = caches.namespaces.get(name);
    // Deleted: everything the operator wrote there goes with the namespace.
    if (!ns) return { decision: 'gone', writes: [] };
    const decision = decideOptIn(ns, ctx);
    const writes: string[] = [];
    const note = (what: string, outcome: string) => {
      if (outcome !== 'unchanged' && outcome !== 'absent' && outcome !== 'deferred') writes.push(`${outcome} ${what}`);
    };

    if (decision.kind === 'invalid') {
      events.record(namespaceTarget(ns), {
        type: 'Warning',
        reason: EVENT_REASONS.invalidAnnotations,
        note: decision.reason,
        action: 'Validate',
      });
      return { decision: decision.kind, reason: decision.reason, writes };
    }

    if (decision.kind === 'not-opted-in') {
      // A terminating namespace refuses new objects and deletes the old ones itself.
      if (ns.terminating) return { decision: decision.kind, reason: decision.reason, writes };
      note('namespace labels', await this.removeLabels(ns));
      note(`ConfigMap ${PROFILE_CONFIGMAP}`, await this.configMaps.remove(PROFILE_CONFIGMAP, name));
      note(`ConfigMap ${TENANTS_CONFIGMAP}`, await this.configMaps.remove(TENANTS_CONFIGMAP, name));
      note(`NetworkPolicy ${TENANT_NETWORK_POLICY}`, await this.networkPolicies.remove(TENANT_NETWORK_POLICY, name));
      await this.removeTrust(name, note);
      return { decision: decision.kind, reason: decision.reason, writes };
    }

    const { tenant, profileName } = decision;
    const profile = resolveProfile(name, profileName, caches);
    const status = profile
      ? `rendered: ${profile.kind} ${profile.namespace ? `${profile.namespace}/` : ''}${profile.name}` +
        (profileName === DEFAULT_PROFILE_NAME && !ns.annotations[ANNOTATION_PROFILE] ? ` (no ${ANNOTATION_PROFILE} annotation: the default)` : '')
      : `${PROFILE_STATUS_MISSING_PREFIX}profile "${profileName}" not found`;
    if (profile && ns.annotations[ANNOTATION_PROFILE_STATUS] !== status) {
      // Which profile the namespace runs is worth one line where its team
      // looks: a namespace meant for Protect must not silently run Monitor.
      events.record(namespaceTarget(ns), { type: 'Normal', reason: EVENT_REASONS.profileSelected, note: status, action: 'Render' });
    }
    // No profile: no mode to relax the checks and no exemption to grant.
    const enforcement = { tenant, ...(profile ? enforcementOf(profile.spec) : { exemptions: [] }) };
    note('namespace labels', await this.ensureLabels(ns, enforcement, status));

    let reason: string | undefined;
    if (!profile) {
      reason = `profile "${profileName}" not found: no SecurityProfile ${profileName} in ${name} and no ClusterSecurityProfile ${profileName}`;
      events.record(namespaceTarget(ns), {
        type: 'Warning',
        reason: EVENT_REASONS.profileNotFound,
        note: `${reason}; the rendered profile is removed`,
        action: 'Render',
      });
      note(`ConfigMap ${PROFILE_CONFIGMAP}`, await this.configMaps.remove(PROFILE_CONFIGMAP, name));
    } else {
      const validation = await this.deps.validator.validate(profile);
      if (validation.ok) {
        // The CA copies first: the webhook mounts them into pods as soon as
        // the rendered profile says interception is on.
        if (interceptEnabled(profile.spec) && this.deps.tenantCa) {
          const { trust } = await this.deps.tenantCa.ensure(tenant);
          note(`Secret ${NAMESPACE_CA_SECRET}`, await this.secrets.ensure(desiredNamespaceCaSecret(name, trust, profile)));
          note(`ConfigMap ${TRUST_BUNDLE_CONFIGMAP}`, await this.configMaps.ensure(desiredTrustBundleConfigMap(name, trust, profile)));
        } else {
          await this.removeTrust(name, note);
        }
        const upstreamCa = await resolveUpstreamCa(profile, ctx.operatorNamespace, this.deps.client);
        if (upstreamCa.ok) {
          const rendered = renderProfile({ ...profile, spec: upstreamCa.spec }, { namespace: name, tenant });
          note(`ConfigMap ${PROFILE_CONFIGMAP}`, await this.configMaps.ensure(desiredProfileConfigMap(name, rendered, profile, validation.databases)));
        } else {
          // Like an invalid profile: the namespace keeps its last good
          // rendering, and its team sees why in Events.
          reason = `${upstreamCa.reason}; last good rendering kept`;
          events.record(namespaceTarget(ns), { type: 'Warning', reason: EVENT_REASONS.invalidSpec, note: reason, action: 'Render' });
        }
      } else {
        // Terminal for this generation: the profile's status and Events say
        // why; the namespace keeps its last good rendering.
        reason = `profile ${profile.name} generation ${profile.generation} is not usable (${validation.reason}); last good rendering kept`;
      }
    }

    note(`ConfigMap ${TENANTS_CONFIGMAP}`, await this.ensureDirectory({ name, tenant, profileName }));
    // Only where the profile asks for one: without a profile (or with one
    // that does not ask) any policy the operator wrote before is removed.
    const policy = desiredNetworkPolicy(name, tenant, ctx.operatorNamespace, networkPolicyIntentOf(profile?.spec));
    note(
      `NetworkPolicy ${TENANT_NETWORK_POLICY}`,
      policy ? await this.networkPolicies.ensure(policy) : await this.networkPolicies.remove(TENANT_NETWORK_POLICY, name),
    );
    return { decision: decision.kind, reason, writes };
  }

  /** The namespace copies of the tenant CA, when interception is off or the namespace left. */
  private async removeTrust(name: string, note: (what: string, outcome: string) => void): Promise<void> {
    // Written together, so the ConfigMap (in the informer cache) says whether
    // there is anything to remove without a GET on every reconcile.
    if (!this.deps.tenantCa || this.deps.caches.configMaps.get(TRUST_BUNDLE_CONFIGMAP, name) === undefined) return;
    note(`Secret ${NAMESPACE_CA_SECRET}`, await this.secrets.remove(NAMESPACE_CA_SECRET, name));
    note(`ConfigMap ${TRUST_BUNDLE_CONFIGMAP}`, await this.configMaps.remove(TRUST_BUNDLE_CONFIGMAP, name));
  }

  /**
   * The namespace's copy of the tenant directory. While a rebuild is pending
   * an existing copy is left as it is (the rebuild hands the namespace back):
   * writing a directory that is about to be replaced would double the writes
   * of every burst. A namespace without a copy gets the current one at once.
   */
  private async ensureDirectory(namespace: ManagedNamespace): Promise<string> {
    const directory = this.deps.directory;
    const { name } = namespace;
    if (directory.pending && this.deps.caches.configMaps.get(TENANTS_CONFIGMAP, name) !== undefined) {
      directory.defer(name);
      return 'deferred';
    }
    return this.configMaps.ensure(desiredTenantsConfigMap(name, directory.copyFor(namespace).text));
  }

  /**
   * Labels, the profile status and exemption annotations. Apply drops what
   * this manager set before and no longer wants; an exemption annotation
   * written by anyone else is removed too, because only a profile grants one.
   */
  private async ensureLabels(ns: NamespaceView, enforcement: NamespaceEnforcement, profileStatus: string): Promise<string> {
    const labels = desiredNamespaceLabels(enforcement);
    const annotations = { ...desiredNamespaceAnnotations(enforcement), [ANNOTATION_PROFILE_STATUS]: profileStatus };
    const stray = Object.keys(ns.annotations).filter((k) => k.startsWith(EXEMPTION_ANNOTATION_PREFIX) && !(k in annotations));
    const same =
      Object.entries(labels).every(([k, v]) => ns.labels[k] === v) &&
      Object.entries(annotations).every(([k, v]) => ns.annotations[k] === v) &&
      stray.length === 0;
    if (same) return 'unchanged';
    await this.deps.client.apply(
      NAMESPACES,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels, annotations } },
      { fieldManager: FIELD_MANAGER },
    );
    if (stray.length > 0) {
      await this.deps.client.mergePatch(NAMESPACES, ns.name, undefined, {
        metadata: { annotations: Object.fromEntries(stray.map((k) => [k, null])) },
      });
    }
    return 'applied';
  }

  /**
   * Removes the labels (and exemptions) whoever set them: a tenant label the operator did not
   * grant would let a namespace into another tenant's NetworkPolicy. A merge
   * patch rather than an empty apply, because apply only drops fields that
   * this manager owns.
   */
  private async removeLabels(ns: NamespaceView): Promise<string> {
    const exemptions = Object.keys(ns.annotations).filter((k) => k.startsWith(EXEMPTION_ANNOTATION_PREFIX));
    const labels = [LABEL_INJECTION, LABEL_TENANT, LABEL_ENFORCEMENT];
    if (labels.every((k) => ns.labels[k] === undefined) && exemptions.length === 0) return 'unchanged';
    await this.deps.client.mergePatch(NAMESPACES, ns.name, undefined, {
      metadata: {
        labels: Object.fromEntries(labels.map((k) => [k, null])),
        annotations: Object.fromEntries([...exemptions, ANNOTATION_PROFILE_STATUS].map((k) => [k, null])),
      },
    });
    return 'removed';
  }
}

/**
 * Events about a namespace are filed in that namespace, where its team looks
 * (`kubectl get events -n NS`); the API server accepts them there only when
 * `regarding` names the namespace too.
 */
function namespaceTarget(ns: NamespaceView) {
  return { apiVersion: 'v1', kind: 'Namespace', name: ns.name, namespace: ns.name, uid: ns.uid };
}

