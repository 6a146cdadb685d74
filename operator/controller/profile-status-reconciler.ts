// Reconciles the status of one profile: validation result (per generation),
// how many opted-in namespaces select it, how many of their pods carry the
// sidecar. Written with server-side apply on the status subresource, and only
// when it differs from the stored status.
import { EVENT_REASONS } from '../api/conditions';
import {
  API_VERSION,
  FIELD_MANAGER,
  KIND_CLUSTER_SECURITY_PROFILE,
  KIND_SECURITY_PROFILE,
  type ProfileKindName,
} from '../api/names';
import { desiredProfileStatus, sameStatus } from '../decide/profile-status';
import { renderedVersion } from '../decide/render-profile';
import { profileKey, resolveProfile } from '../decide/resolve-profile';
import type { OptInContext } from '../decide/opt-in';
import type { KubeClient } from '../kube/client';
import type { EventSink } from '../kube/events';
import { CLUSTER_SECURITY_PROFILES, SECURITY_PROFILES } from '../kube/resources';
import type { OperatorMetrics } from '../metrics/operator-metrics';
import type { ProfileView } from '../model/views';
import type { ProfileValidator } from '../validation/profile-validator';
import type { ClusterCaches } from './caches';
import { managedNamespaces } from './managed-namespaces';

export interface ProfileStatusDeps {
  client: KubeClient;
  caches: ClusterCaches;
  validator: ProfileValidator;
  events: EventSink;
  metrics: OperatorMetrics;
  ctx: OptInContext;
  now?: () => Date;
}

export function parseProfileKey(key: string): { kind: ProfileKindName; namespace?: string; name: string } {
  const parts = key.split('/');
  if (parts[0] === KIND_SECURITY_PROFILE && parts.length === 3) return { kind: KIND_SECURITY_PROFILE, namespace: parts[1], name: parts[2]! };
  if (parts[0] === KIND_CLUSTER_SECURITY_PROFILE && parts.length === 2) return { kind: KIND_CLUSTER_SECURITY_PROFILE, name: parts[1]! };
  throw new TypeError(`not a profile key: ${key}`);
}

export class ProfileStatusReconciler {
  /** profile key -> labels of its rendered_profile_info series, to remove it when the version changes. */
  private readonly infoSeries = new Map<string, Record<string, string>>();

  constructor(private readonly deps: ProfileStatusDeps) {}

  async reconcile(key: string): Promise<'written' | 'unchanged' | 'gone'> {
    const { caches, metrics } = this.deps;
    const id = parseProfileKey(key);
    const profile =
      id.kind === KIND_SECURITY_PROFILE ? caches.securityProfile(id.namespace!, id.name) : caches.clusterSecurityProfile(id.name);
    if (!profile) {
      this.dropInfo(key);
      this.updateProfileGauge();
      return 'gone';
    }
    const validation = await this.deps.validator.validate(profile);
    const { namespaces, injectedPods } = this.usage(profile);
    const status = desiredProfileStatus({
      generation: profile.generation,
      validation,
      namespaces,
      injectedPods,
      previous: profile.status,
      now: (this.deps.now ?? (() => new Date()))(),
    });

    if (validation.ok) {
      this.setInfo(key, { kind: profile.kind, namespace: profile.namespace ?? '', name: profile.name, version: renderedVersion(profile) });
    } else {
      this.deps.events.record(
        { apiVersion: API_VERSION, kind: profile.kind, name: profile.name, namespace: profile.namespace, uid: profile.uid },
        { type: 'Warning', reason: validation.reason === 'DetectorCompileFailed' ? EVENT_REASONS.detectorCompileFailed : EVENT_REASONS.invalidSpec, note: validation.message, action: 'Validate' },
      );
    }
    if (sameStatus(profile.status, status)) {
      this.updateProfileGauge();
      return 'unchanged';
    }
    await this.deps.client.apply(
      profile.kind === KIND_SECURITY_PROFILE ? SECURITY_PROFILES : CLUSTER_SECURITY_PROFILES,
      {
        apiVersion: API_VERSION,
        kind: profile.kind,
        metadata: { name: profile.name, ...(profile.namespace ? { namespace: profile.namespace } : {}) },
        status,
      },
      { fieldManager: FIELD_MANAGER, subresource: 'status' },
    );
    this.updateProfileGauge();
    return 'written';
  }

  /** Opted-in namespaces resolving to this profile, and their pods with the sidecar. */
  private usage(profile: ProfileView): { namespaces: number; injectedPods: number } {
    const { caches, ctx } = this.deps;
    const selecting = new Set<string>();
    for (const m of managedNamespaces(caches.namespaces, ctx)) {
      if (m.profileName !== profile.name) continue;
      if (profile.namespace !== undefined && m.name !== profile.namespace) continue;
      const resolved = resolveProfile(m.name, m.profileName, caches);
      if (resolved && profileKey(resolved) === profileKey(profile)) selecting.add(m.name);
    }
    let injectedPods = 0;
    for (const pod of caches.pods.values()) if (pod.injected && selecting.has(pod.namespace)) injectedPods++;
    return { namespaces: selecting.size, injectedPods };
  }

  private setInfo(key: string, labels: Record<string, string>): void {
    const before = this.infoSeries.get(key);
    if (before && before.version === labels.version) return;
    this.dropInfo(key);
    this.deps.metrics.renderedProfileInfo.set(labels, 1);
    this.infoSeries.set(key, labels);
  }

  private dropInfo(key: string): void {
    const before = this.infoSeries.get(key);
    if (before) this.deps.metrics.renderedProfileInfo.remove(before);
    this.infoSeries.delete(key);
  }

  private updateProfileGauge(): void {
    const counts = new Map<string, number>();
    for (const p of this.deps.caches.profiles()) {
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status?.toLowerCase() ?? 'unknown';
      const k = `${p.kind}\u0000${ready}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    this.deps.metrics.profiles.reset();
    for (const [k, n] of counts) {
      const [kind, ready] = k.split('\u0000');
      this.deps.metrics.profiles.set({ kind, ready }, n);
    }
  }
}
