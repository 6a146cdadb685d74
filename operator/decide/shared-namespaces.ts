// Which namespaces a profile's tenancy.sharedNamespaces selects: resolved
// here, against namespace labels, so the sidecar gets names (in its tenant
// directory) and never needs to read labels or list namespaces itself.
import { SHARED_NAMESPACE_LABEL } from '../../proxy/profile/schema';
import type { NamespaceView } from '../model/views';

export interface NamespaceSelector {
  matchLabels: Readonly<Record<string, string>>;
}

/** The schema's default, for a profile without the field (stored before it existed, or no profile at all). */
export const DEFAULT_SHARED_SELECTORS: readonly NamespaceSelector[] = [{ matchLabels: { [SHARED_NAMESPACE_LABEL]: 'true' } }];

export function sharedSelectorsOf(spec: unknown): readonly NamespaceSelector[] {
  const list = (spec as { tenancy?: { sharedNamespaces?: unknown } } | undefined)?.tenancy?.sharedNamespaces;
  if (!Array.isArray(list)) return DEFAULT_SHARED_SELECTORS;
  // An empty selector would match every namespace; validation refuses it, and it never selects here.
  return list.filter(
    (s): s is NamespaceSelector =>
      typeof s?.matchLabels === 'object' && s.matchLabels !== null && Object.keys(s.matchLabels as object).length > 0,
  );
}

/** Names of the namespaces any selector matches (all of its labels), sorted. */
export function selectNamespaces(selectors: readonly NamespaceSelector[], namespaces: Iterable<NamespaceView>): string[] {
  if (selectors.length === 0) return [];
  const out: string[] = [];
  for (const ns of namespaces) {
    if (ns.terminating) continue;
    if (selectors.some((s) => Object.entries(s.matchLabels).every(([k, v]) => ns.labels[k] === v))) out.push(ns.name);
  }
  return out.sort();
}
