// Which running pods should have the sidecar and do not, and which workloads
// would recreate them with it: pure functions of the caches.
import type { RolloutPodView } from './pod-view';

/** A pod the webhook would inject today but that runs without the sidecar. */
export function missesSidecar(p: RolloutPodView): boolean {
  return !p.injected && !p.optedOut && !p.hostNetwork && !p.mirror && !p.finished && !p.terminating;
}

/** Pods missing the sidecar, by namespace, among namespaces for which `optedIn` holds. */
export function podsMissingSidecar(pods: Iterable<RolloutPodView>, optedIn: (namespace: string) => boolean): Map<string, RolloutPodView[]> {
  const out = new Map<string, RolloutPodView[]>();
  for (const p of pods) {
    if (!missesSidecar(p) || !optedIn(p.namespace)) continue;
    const list = out.get(p.namespace) ?? [];
    list.push(p);
    out.set(p.namespace, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/**
 * Injected pods in namespaces that exist but no longer opt in: the operator
 * removed the ConfigMaps their sidecar mounts, so a sidecar that restarts
 * cannot start (and in transparent mode the pod's egress stays refused).
 */
export function podsOrphaned(
  pods: Iterable<RolloutPodView>,
  optedIn: (namespace: string) => boolean,
  exists: (namespace: string) => boolean,
): Map<string, RolloutPodView[]> {
  const out = new Map<string, RolloutPodView[]>();
  for (const p of pods) {
    if (!p.injected || p.finished || p.terminating || !exists(p.namespace) || optedIn(p.namespace)) continue;
    const list = out.get(p.namespace) ?? [];
    list.push(p);
    out.set(p.namespace, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/**
 * Injected pods in opted-in namespaces whose profile is gone: the operator
 * removed the rendered profile their sidecar mounts. The sidecar keeps the
 * rendering it last loaded, but a restarted one cannot start, and the webhook
 * refuses new pods there, so restarting them would only take them away.
 */
export function podsProfileMissing(pods: Iterable<RolloutPodView>, profileMissing: (namespace: string) => boolean): Map<string, RolloutPodView[]> {
  const out = new Map<string, RolloutPodView[]>();
  for (const p of pods) {
    if (!p.injected || p.finished || p.terminating || !profileMissing(p.namespace)) continue;
    const list = out.get(p.namespace) ?? [];
    list.push(p);
    out.set(p.namespace, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

/** The kinds of owners a restart goes through (a ReplicaSet is resolved to its Deployment). */
export const RESTARTABLE_OWNER_KINDS = ['ReplicaSet', 'StatefulSet', 'DaemonSet'] as const;

export interface OwnerGroup {
  kind: (typeof RESTARTABLE_OWNER_KINDS)[number];
  name: string;
  pods: RolloutPodView[];
  /** Creation time of the oldest such pod: a restart requested after it already covers them all. */
  oldestCreatedAt: number;
}

/**
 * Groups pods by restartable owner. Bare pods and pods of Jobs (or unknown
 * controllers) are only reported: recreating them is not ours to do.
 */
export function groupByOwner(pods: readonly RolloutPodView[]): { groups: OwnerGroup[]; unmanaged: RolloutPodView[] } {
  const groups = new Map<string, OwnerGroup>();
  const unmanaged: RolloutPodView[] = [];
  for (const p of pods) {
    const kind = p.owner?.kind as OwnerGroup['kind'] | undefined;
    if (!p.owner || !kind || !RESTARTABLE_OWNER_KINDS.includes(kind)) {
      unmanaged.push(p);
      continue;
    }
    const key = `${kind}/${p.owner.name}`;
    const g = groups.get(key) ?? { kind, name: p.owner.name, pods: [], oldestCreatedAt: Number.POSITIVE_INFINITY };
    g.pods.push(p);
    g.oldestCreatedAt = Math.min(g.oldestCreatedAt, p.createdAt);
    groups.set(key, g);
  }
  return { groups: [...groups.values()].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`)), unmanaged };
}

export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/**
 * Whether a workload still needs a restart: not when its pod template was
 * restarted after the oldest pod missing the sidecar was created (the
 * rollout is under way, or those pods are leftovers it will replace).
 */
export function needsRestart(templateAnnotations: Readonly<Record<string, string>> | undefined, oldestCreatedAt: number): boolean {
  const restartedAt = Date.parse(templateAnnotations?.[RESTARTED_AT_ANNOTATION] ?? '');
  return Number.isNaN(restartedAt) || restartedAt < oldestCreatedAt;
}
