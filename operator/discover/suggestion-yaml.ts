// A suggestion as a ready-to-apply SecurityProfile manifest, with the
// evidence for every rule as a YAML comment right above it, so a reviewer
// reads why each line is there before applying it.
import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { API_VERSION } from '../../proxy/profile';
import { suggestionSpec, type Suggestion } from './suggest-profile';

export function suggestionManifest(s: Suggestion): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: 'SecurityProfile',
    metadata: { name: s.name, namespace: s.namespace },
    spec: suggestionSpec(s),
  };
}

export function suggestionYaml(s: Suggestion): string {
  const doc = new Document(suggestionManifest(s));
  const header = [
    ` Suggested by kube-dlp profile suggest from ${s.observed.requests} requests observed by ${s.observed.sources} sidecar${s.observed.sources === 1 ? '' : 's'}`,
    ` between ${s.observed.since} and ${s.observed.until}.`,
    ` mode: ${s.mode}; egress default Deny: only the destinations below were seen.`,
  ];
  for (const e of s.excluded) header.push(` left out: ${e}`);
  doc.commentBefore = header.join('\n');
  const allow = doc.getIn(['spec', 'egress', 'allow'], true);
  if (isSeq(allow)) annotate(allow, s.allow.map((r) => r.evidence));
  const overrides = doc.getIn(['spec', 'detectors', 'overrides'], true);
  if (isSeq(overrides)) annotate(overrides, s.overrides.map((o) => o.evidence));
  const egress = doc.getIn(['spec', 'egress'], true);
  if (isMap(egress)) commentKey(egress, 'default', ' anything not seen while observing is refused');
  return doc.toString({ lineWidth: 0 });
}

function annotate(seq: YAMLSeq, evidence: string[]): void {
  seq.items.forEach((item, i) => {
    const node = item as { commentBefore?: string };
    if (evidence[i] !== undefined) node.commentBefore = ` ${evidence[i]}`;
  });
}

function commentKey(map: YAMLMap, key: string, comment: string): void {
  const pair = map.items.find((p) => (p.key as { value?: unknown })?.value === key);
  if (pair && pair.value && typeof pair.value === 'object') (pair.value as { comment?: string }).comment = comment;
}
