// What the rollout keeps of each Pod: enough to tell whether it should have
// the sidecar and which workload would recreate it. A few fields per pod, so
// a cluster-wide cache stays small.
import { ANNOTATION_INJECT, INJECT_DISABLED, LABEL_INJECTED_POD } from '../api/names';
import { INJECTED_TRUE } from '../inject/names';
import type { RawObject } from '../model/views';

export interface RolloutPodView {
  namespace: string;
  name: string;
  uid: string;
  injected: boolean;
  optedOut: boolean;
  hostNetwork: boolean;
  mirror: boolean;
  /** Succeeded or Failed: nothing to restart. */
  finished: boolean;
  terminating: boolean;
  /** ms since the epoch; 0 when unknown. */
  createdAt: number;
  /** The controlling owner, if any. */
  owner?: { kind: string; name: string };
}

export function toRolloutPodView(o: RawObject): RolloutPodView {
  const m = o.metadata ?? {};
  const spec = (o.spec ?? {}) as { hostNetwork?: boolean };
  const phase = ((o.status ?? {}) as { phase?: string }).phase;
  const owners = (m.ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
  const controller = owners.find((r) => r.controller) ?? undefined;
  const created = Date.parse(String((m as { creationTimestamp?: string }).creationTimestamp ?? ''));
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    injected: m.labels?.[LABEL_INJECTED_POD] === INJECTED_TRUE,
    optedOut: m.annotations?.[ANNOTATION_INJECT] === INJECT_DISABLED || m.labels?.[ANNOTATION_INJECT] === INJECT_DISABLED,
    hostNetwork: spec.hostNetwork === true,
    mirror: m.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    finished: phase === 'Succeeded' || phase === 'Failed',
    terminating: m.deletionTimestamp !== undefined && m.deletionTimestamp !== null,
    createdAt: Number.isNaN(created) ? 0 : created,
    ...(controller?.kind && controller.name ? { owner: { kind: controller.kind, name: controller.name } } : {}),
  };
}
