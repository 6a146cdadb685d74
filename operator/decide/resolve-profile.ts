// Which profile a namespace gets: a SecurityProfile of that name in the
// namespace beats a ClusterSecurityProfile of the same name, so a team can
// shadow the cluster's `default` (or any shared profile) locally.
import type { ProfileView } from '../model/views';

export interface ProfileLookup {
  securityProfile(namespace: string, name: string): ProfileView | undefined;
  clusterSecurityProfile(name: string): ProfileView | undefined;
}

export function resolveProfile(namespace: string, profileName: string, lookup: ProfileLookup): ProfileView | undefined {
  return lookup.securityProfile(namespace, profileName) ?? lookup.clusterSecurityProfile(profileName);
}

/** Stable key of a profile, for queues, caches and metrics. */
export function profileKey(p: Pick<ProfileView, 'kind' | 'namespace' | 'name'>): string {
  return p.namespace ? `${p.kind}/${p.namespace}/${p.name}` : `${p.kind}/${p.name}`;
}
