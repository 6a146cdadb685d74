// The SecurityProfileProposal object: the operator's suggestion for one
// namespace, kept apart from the SecurityProfile it would replace. Why a
// separate kind rather than status.proposal on the profile:
// - a profile is often shared (ClusterSecurityProfile, several namespaces),
//   while what was observed is per namespace;
// - RBAC: a team may read its proposal without being able to edit policy;
// - the profile object stays small: every sidecar render and every watch of
//   it would otherwise carry hundreds of observed hosts;
// - `kubectl get securityprofileproposals -A` lists what is ready to review.
// spec.profile is exactly what `profile suggest --namespace` prints, and the
// evidence lists run parallel to its allow and overrides lists.
import type { KubeObject } from '../model/kube-object';
import type { DetectorOverride, EgressRule, Mode } from '../../proxy/profile';
import { API_VERSION, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../api/names';
import { suggestionSpec, type Suggestion } from './suggest-profile';

import { PROPOSAL_KIND as KIND_PROPOSAL } from '../api/proposal-crd';
/** One proposal per namespace, under a fixed name. */
export const PROPOSAL_NAME = 'observed';

export interface CollectionStats {
  pods: number;
  answered: number;
  /** Pods that did not answer (no IP, refused, timed out, not a summary). */
  skipped: number;
}

export interface ProposalSpec {
  profile: ReturnType<typeof suggestionSpec>;
  evidence: { egress: string[]; detectors: string[]; excluded: string[] };
  observed: Suggestion['observed'] & CollectionStats;
}

export function proposalObject(s: Suggestion, stats: CollectionStats): KubeObject {
  const spec: ProposalSpec = {
    profile: suggestionSpec(s),
    evidence: { egress: s.allow.map((r) => r.evidence), detectors: s.overrides.map((o) => o.evidence), excluded: s.excluded },
    observed: { ...s.observed, ...stats },
  };
  return {
    apiVersion: API_VERSION,
    kind: KIND_PROPOSAL,
    metadata: { name: PROPOSAL_NAME, namespace: s.namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } },
    spec: spec as unknown as Record<string, unknown>,
  };
}

/** Back from the stored object to a Suggestion, for printing with comments. */
export function suggestionFromProposal(obj: KubeObject, opts: { name: string; mode?: Mode }): Suggestion {
  const spec = obj.spec as unknown as ProposalSpec | undefined;
  if (!spec?.profile || !spec.evidence || !spec.observed) throw new TypeError(`${KIND_PROPOSAL} ${obj.metadata.namespace}/${obj.metadata.name} has no spec.profile/evidence/observed`);
  const allow = (spec.profile.egress?.allow ?? []) as EgressRule[];
  const overrides = (spec.profile.detectors?.overrides ?? []) as DetectorOverride[];
  const categories = new Set(['pci', 'pii', 'secret', 'custom']);
  return {
    name: opts.name,
    namespace: obj.metadata.namespace ?? '',
    mode: opts.mode ?? spec.profile.mode ?? 'Protect',
    allow: allow.map((value, i) => ({ value, evidence: spec.evidence.egress[i] ?? 'no evidence recorded' })),
    overrides: overrides.map((value, i) => ({ value, evidence: spec.evidence.detectors[i] ?? 'no evidence recorded' })),
    enableOptIn: (spec.profile.detectors?.enable ?? []).filter((id) => !categories.has(id)),
    excluded: spec.evidence.excluded ?? [],
    observed: {
      sources: spec.observed.sources,
      since: spec.observed.since,
      until: spec.observed.until,
      requests: spec.observed.requests,
      evicted: spec.observed.evicted,
    },
  };
}
