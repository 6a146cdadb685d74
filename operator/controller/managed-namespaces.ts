// The opted-in namespaces as the caches see them right now: the one place
// that turns every namespace view into a decision, for the tenant directory,
// the profiles' counts and the fan-out when a shared profile changes.
import { decideOptIn, type OptInContext } from '../decide/opt-in';
import type { NamespaceView } from '../model/views';

export interface ManagedNamespace {
  name: string;
  tenant: string;
  profileName: string;
}

export function managedNamespaces(namespaces: { values(): Iterable<NamespaceView> }, ctx: OptInContext): ManagedNamespace[] {
  const out: ManagedNamespace[] = [];
  for (const ns of namespaces.values()) {
    const d = decideOptIn(ns, ctx);
    if (d.kind === 'opted-in') out.push({ name: ns.name, tenant: d.tenant, profileName: d.profileName });
  }
  return out;
}
