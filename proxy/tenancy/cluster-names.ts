// Which namespace an in-cluster DNS name points into. Pods resolve names
// through the search path `<ns>.svc.<domain> svc.<domain> <domain>`, so all of
// these reach Service `api` of namespace `team-b`:
//   api.team-b                      (via svc.<domain>; only when team-b is a namespace)
//   api.team-b.svc                  (via <domain>)
//   api.team-b.svc.cluster.local    (fully qualified)
//   pod-0.api.team-b.svc.cluster.local   (headless Service member)
//   10-1-2-3.team-b.pod.cluster.local    (Pod A record)
// A single label (`api`) resolves in the pod's own namespace.
import { normalizeHostName } from '../policy/egress-syntax';
import { TenancyConfigError } from './errors';

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export type ClusterName =
  /** The name points into this namespace. */
  | { kind: 'namespace'; namespace: string }
  /** Inside a cluster domain, but no namespace can be read from it (e.g. `cluster.local` itself). */
  | { kind: 'cluster-unknown' };

export interface ClusterNameContext {
  clusterDomains: readonly string[];
  ownNamespace: string;
  /** Two-label names are in-cluster only when their second label is a namespace (else `example.com` would be). */
  isNamespace(name: string): boolean;
}

const DOMAIN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Validates and normalises --cluster-domain values (comma-separated allowed). */
export function parseClusterDomains(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const d = normalizeHostName(raw.trim());
      if (d === '') continue;
      if (!DOMAIN.test(d)) throw new TenancyConfigError(`cluster domain "${raw.trim()}" is not a DNS name`);
      if (!out.includes(d)) out.push(d);
    }
  }
  return out.length > 0 ? out : [DEFAULT_CLUSTER_DOMAIN];
}

export function clusterNameOf(host: string, ctx: ClusterNameContext): ClusterName | undefined {
  const name = normalizeHostName(host);
  if (name === '' || name.includes(':')) return undefined;
  let labels = name.split('.');

  // Strip the cluster domain when the name is fully qualified.
  let qualified = false;
  for (const domain of ctx.clusterDomains) {
    if (name === domain) return { kind: 'cluster-unknown' };
    if (name.endsWith(`.${domain}`)) {
      labels = name.slice(0, -(domain.length + 1)).split('.');
      qualified = true;
      break;
    }
  }

  const last = labels[labels.length - 1]!;
  if ((last === 'svc' || last === 'pod') && labels.length >= 2) {
    // `<...>.<ns>.svc` / `<...>.<ns>.pod`; `<ns>.svc` alone names the namespace's zone.
    const ns = labels[labels.length - 2]!;
    return LABEL.test(ns) ? { kind: 'namespace', namespace: ns } : { kind: 'cluster-unknown' };
  }
  if (qualified) {
    // `<name>.<ns>.<domain>` is not a Kubernetes record, but it is still inside the cluster zone.
    return { kind: 'cluster-unknown' };
  }
  if (labels.length === 1) return { kind: 'namespace', namespace: ctx.ownNamespace };
  if (labels.length === 2 && (labels[1] === ctx.ownNamespace || ctx.isNamespace(labels[1]!))) {
    return { kind: 'namespace', namespace: labels[1]! };
  }
  return undefined;
}
