// Whether to inject, as one pure function that says why not: an ordered list
// of checks where the first that applies decides (the same style as the
// operator's opt-in decision). The reason becomes the skip metric's label, a
// log field and what tests assert.
import { ANNOTATION_PROFILE_STATUS, PROFILE_STATUS_MISSING_PREFIX } from '../api/names';
import { decideOptIn, type OptInContext } from '../decide/opt-in';
import type { NamespaceView } from '../model/views';
import { ANNOTATION_INJECT, INJECT_DISABLED } from './names';
import type { Pod } from './pod';

export const SKIP_REASONS = [
  'not-a-pod',
  'namespace-not-opted-in',
  'pod-opted-out',
  'mirror-pod',
  'host-network',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface InjectionInput {
  /** AdmissionRequest.kind and subResource. */
  kind: { group: string; version: string; kind: string };
  subResource?: string;
  operation: string;
  pod: Pod | undefined;
  /** The pod's namespace as cached (undefined when it does not exist). */
  namespace: NamespaceView | undefined;
}

export type InjectionDecision =
  | { kind: 'inject'; tenant: string; profileName: string }
  | { kind: 'skip'; reason: SkipReason; detail: string }
  /** The namespace asks for injection with invalid annotations: refusing keeps it from running unprotected. */
  | { kind: 'deny'; message: string };

interface Check {
  reason: SkipReason | 'namespace-annotations-invalid' | 'namespace-profile-missing';
  /** A check that refuses the pod instead of skipping it. */
  deny?: true;
  /** Why this check applies, or undefined. */
  applies(input: InjectionInput, ctx: OptInContext): string | undefined;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

const CHECKS: readonly Check[] = [
  {
    reason: 'not-a-pod',
    applies: ({ kind, subResource, operation, pod }) => {
      if (kind.group !== '' || kind.version !== 'v1' || kind.kind !== 'Pod') return `${kind.kind || 'object'} is not a core/v1 Pod`;
      if (subResource) return `subresource ${subResource}`;
      if (operation !== 'CREATE') return `operation ${operation}: pods are injected only when created`;
      if (!pod || typeof pod !== 'object' || !pod.spec || !Array.isArray(pod.spec.containers)) return 'the request holds no pod spec';
      return undefined;
    },
  },
  {
    reason: 'namespace-not-opted-in',
    applies: ({ namespace }, ctx) => {
      if (!namespace) return 'namespace not found';
      const d = decideOptIn(namespace, ctx);
      // 'invalid' is handled before the checks (it denies rather than skips).
      return d.kind === 'not-opted-in' ? d.reason : undefined;
    },
  },
  {
    reason: 'pod-opted-out',
    applies: ({ pod }) => {
      if (pod!.metadata.annotations?.[ANNOTATION_INJECT] === INJECT_DISABLED) return `annotation ${ANNOTATION_INJECT} is "${INJECT_DISABLED}"`;
      if (pod!.metadata.labels?.[ANNOTATION_INJECT] === INJECT_DISABLED) return `label ${ANNOTATION_INJECT} is "${INJECT_DISABLED}"`;
      return undefined;
    },
  },
  {
    // The kubelet owns a mirror pod's spec: it mirrors a static pod and cannot be changed.
    reason: 'mirror-pod',
    applies: ({ pod }) => (pod!.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined ? 'mirror of a static pod' : undefined),
  },
  {
    // Capture rules would apply to the node's network namespace, and a proxy on the node's ports would collide.
    reason: 'host-network',
    applies: ({ pod }) => (pod!.spec.hostNetwork === true ? 'pod uses the host network' : undefined),
  },
  {
    // After the opt-outs: a broken namespace annotation must not block pods that would be skipped anyway.
    reason: 'namespace-annotations-invalid',
    deny: true,
    applies: ({ namespace }, ctx) => {
      const d = decideOptIn(namespace!, ctx);
      return d.kind === 'invalid' ? `namespace ${namespace!.name}: ${d.reason}` : undefined;
    },
  },
  {
    // The operator found no profile for the namespace (deleted, or never
    // created) and removed its rendering. An injected pod would mount a
    // ConfigMap that does not exist and never start; refusing it fails
    // closed without hanging, and says what to do. Running pods keep the
    // profile they loaded.
    reason: 'namespace-profile-missing',
    deny: true,
    applies: ({ namespace }) => {
      const status = namespace!.annotations[ANNOTATION_PROFILE_STATUS];
      if (!status?.startsWith(PROFILE_STATUS_MISSING_PREFIX)) return undefined;
      const why = status.slice(PROFILE_STATUS_MISSING_PREFIX.length);
      return (
        `namespace ${namespace!.name} has no DLP profile (${why}): create it, name another with kubedlp.io/profile, ` +
        `or opt the namespace out; see kubectl get events -n ${namespace!.name}`
      );
    },
  },
  // No "already injected" skip: a CREATE that carries the sidecar and our
  // status annotation may be our own re-invocation, a re-submitted pod, or a
  // forgery naming a proxy uid of the author's choosing, and the request
  // cannot tell them apart. Injection is idempotent apart from the uid, which
  // it draws afresh (inject.ts), so every case ends with a uid nobody chose.
];

export function decideInjection(input: InjectionInput, ctx: OptInContext): InjectionDecision {
  for (const check of CHECKS) {
    const detail = check.applies(input, ctx);
    if (detail === undefined) continue;
    if (check.deny) return { kind: 'deny', message: detail };
    return { kind: 'skip', reason: check.reason as SkipReason, detail };
  }
  const optIn = decideOptIn(input.namespace!, ctx);
  if (optIn.kind !== 'opted-in') throw new Error(`unreachable: namespace decision ${optIn.kind} passed the checks`);
  return { kind: 'inject', tenant: optIn.tenant, profileName: optIn.profileName };
}
