// Merges the /observed summaries of several sidecars (the pods of one
// namespace, or several --from URLs) into one view per destination, keeping
// how many pods saw each one. Counts add; first/last seen widen.
import type { ObservedDestination, ObservedDetector, ObservedSummary } from './observed-egress';

export interface MergedDestination extends Omit<ObservedDestination, 'detectors'> {
  /** Pods whose summary contained this destination. */
  pods: number;
  detectors: ObservedDetector[];
}

export interface MergedObservation {
  /** `namespace/pod` of every summary merged. */
  sources: string[];
  namespaces: string[];
  since: string;
  until: string;
  evicted: number;
  unattributed: number;
  destinations: MergedDestination[];
}

export function mergeObserved(summaries: readonly ObservedSummary[]): MergedObservation {
  const byKey = new Map<string, MergedDestination>();
  let evicted = 0;
  let unattributed = 0;
  for (const s of summaries) {
    evicted += s.evicted;
    unattributed += s.unattributed;
    for (const d of s.destinations) {
      const key = `${d.scheme}|${d.host}|${d.port}`;
      const into = byKey.get(key);
      if (into === undefined) {
        byKey.set(key, { ...d, pods: 1, methods: { ...d.methods }, decisions: { ...d.decisions }, detectors: d.detectors.map((x) => ({ ...x, actions: { ...x.actions } })) });
        continue;
      }
      into.pods++;
      into.requests += d.requests;
      into.requestBytes += d.requestBytes;
      into.hostMasked ||= d.hostMasked;
      addCounts(into.methods, d.methods);
      addCounts(into.decisions as Record<string, number>, d.decisions as Record<string, number>);
      if (d.firstSeen < into.firstSeen) into.firstSeen = d.firstSeen;
      if (d.lastSeen > into.lastSeen) into.lastSeen = d.lastSeen;
      for (const det of d.detectors) {
        const have = into.detectors.find((x) => x.detector === det.detector);
        if (have === undefined) into.detectors.push({ ...det, actions: { ...det.actions } });
        else {
          have.count += det.count;
          addCounts(have.actions, det.actions);
        }
      }
    }
  }
  const times = summaries.map((s) => s.since).sort();
  const ends = summaries.map((s) => s.generatedAt).sort();
  return {
    sources: summaries.map((s) => `${s.namespace}/${s.pod}`).sort(),
    namespaces: [...new Set(summaries.map((s) => s.namespace))].sort(),
    since: times[0] ?? '',
    until: ends[ends.length - 1] ?? '',
    evicted,
    unattributed,
    destinations: [...byKey.values()].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port || a.scheme.localeCompare(b.scheme)),
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** A parsed /observed body, checked enough that a wrong URL gives a clear error rather than a strange profile. */
export function parseObservedSummary(value: unknown, source: string): ObservedSummary {
  const v = value as Partial<ObservedSummary> | null;
  if (v === null || typeof v !== 'object' || v.version !== 1 || !Array.isArray(v.destinations)) {
    throw new TypeError(`${source} is not a kube-dlp /observed summary (expected JSON with version 1 and destinations)`);
  }
  for (const d of v.destinations) {
    if (typeof d?.host !== 'string' || typeof d.port !== 'number' || typeof d.requests !== 'number' || !Array.isArray(d.detectors)) {
      throw new TypeError(`${source}: a destination entry lacks host, port, requests or detectors`);
    }
  }
  return v as ObservedSummary;
}
