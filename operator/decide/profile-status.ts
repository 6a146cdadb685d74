// The status a profile should have, as a pure function of what the operator
// knows; reconcile writes it only when it differs from the stored one.
// lastTransitionTime moves only when a condition's status flips, as
// metav1.Condition prescribes.
import { CONDITION_DETECTORS_COMPILED, CONDITION_READY, REASONS, type ConditionStatus } from '../api/conditions';
import type { Condition, SecurityProfileStatus } from '../api/status-schema';
import type { ProfileValidation } from './validate-profile';

export interface StatusInputs {
  generation: number;
  validation: ProfileValidation;
  /** Opted-in namespaces selecting the profile. */
  namespaces: number;
  /** Pods with the sidecar in those namespaces. */
  injectedPods: number;
  previous?: SecurityProfileStatus;
  now: Date;
}

export function desiredProfileStatus(inputs: StatusInputs): SecurityProfileStatus {
  const { validation: v, generation } = inputs;
  const compiled: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> = v.ok
    ? { type: CONDITION_DETECTORS_COMPILED, status: 'True', reason: REASONS.compiled, message: `${v.detectors} detectors compiled (${v.engine})` }
    : v.reason === REASONS.detectorCompileFailed
      ? { type: CONDITION_DETECTORS_COMPILED, status: 'False', reason: REASONS.detectorCompileFailed, message: v.message }
      : { type: CONDITION_DETECTORS_COMPILED, status: 'Unknown', reason: REASONS.notCompiled, message: 'not compiled: the spec is invalid (see Ready)' };
  const ready: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> = v.ok
    ? {
        type: CONDITION_READY,
        status: 'True',
        reason: REASONS.rendered,
        message: `rendered for ${inputs.namespaces} namespace${inputs.namespaces === 1 ? '' : 's'}`,
      }
    : {
        type: CONDITION_READY,
        status: 'False',
        reason: v.reason,
        message: `${v.message}; namespaces keep their last good rendering`,
      };
  const previous = inputs.previous?.conditions ?? [];
  return {
    observedGeneration: generation,
    conditions: [ready, compiled].map((c) => withTransitionTime({ ...c, observedGeneration: generation }, previous, inputs.now)),
    ...(v.ok ? { detectors: v.detectors } : {}),
    namespaces: inputs.namespaces,
    injectedPods: inputs.injectedPods,
  };
}

function withTransitionTime(
  next: Omit<Condition, 'lastTransitionTime'>,
  previous: readonly Condition[],
  now: Date,
): Condition {
  const before = previous.find((c) => c.type === next.type);
  const unchanged = before !== undefined && before.status === (next.status as ConditionStatus);
  // RFC 3339 with second precision, as metav1.Time serialises.
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { ...next, lastTransitionTime: unchanged ? before.lastTransitionTime : stamp };
}

/** Equal for writing purposes: a rewrite with nothing new would only churn watchers. */
export function sameStatus(a: SecurityProfileStatus | undefined, b: SecurityProfileStatus): boolean {
  if (a === undefined) return false;
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(s: SecurityProfileStatus): unknown {
  const conditions = [...(s.conditions ?? [])].sort((x, y) => (x.type < y.type ? -1 : 1)).map((c) => [
    c.type, c.status, c.reason, c.message, c.observedGeneration ?? null, c.lastTransitionTime,
  ]);
  return [s.observedGeneration ?? null, conditions, s.detectors ?? null, s.namespaces ?? null, s.injectedPods ?? null];
}
