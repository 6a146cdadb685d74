// Turns observed destinations into egress allow rules. Several sibling names
// under one parent domain (a.cdn.example.com, b.cdn.example.com, ...) become
// one `*.cdn.example.com` rule: workloads that shard over hosts would
// otherwise fail on the next shard. Grouping stops short of public suffixes
// by requiring the parent to keep at least two labels, so `*.com` or
// `*.co.uk` are never proposed (`*.example.co.uk` would need three
// siblings anyway). IP literals become single-address CIDRs: globbing
// addresses would allow neighbours nobody saw.
import { isIP } from 'node:net';
import type { MergedDestination } from '../../proxy/observe/merge-observed';

export interface EgressGroup {
  /** `host` for names and globs, `cidr` for addresses. */
  kind: 'host' | 'cidr';
  value: string;
  ports: number[];
  members: MergedDestination[];
  /** Some of the traffic was a tunnel the proxy could not inspect (CONNECT, raw TCP). */
  uninspectable: boolean;
}

export interface GroupingOptions {
  /** Distinct sibling names needed before they are folded into a glob. Default 3. */
  minSiblings?: number;
}

export function groupDestinations(destinations: readonly MergedDestination[], opts: GroupingOptions = {}): EgressGroup[] {
  const minSiblings = opts.minSiblings ?? 3;
  const names = new Map<string, MergedDestination[]>();
  const addresses = new Map<string, MergedDestination[]>();
  const groups: EgressGroup[] = [];
  for (const d of destinations) {
    const into = isIP(d.host) !== 0 ? addresses : names;
    const list = into.get(d.host) ?? [];
    list.push(d);
    into.set(d.host, list);
  }
  for (const [address, members] of addresses) groups.push(group('cidr', `${address}/${isIP(address) === 4 ? 32 : 128}`, members));
  const byParent = new Map<string, string[]>();
  for (const host of names.keys()) {
    const parent = parentOf(host);
    if (parent === undefined) continue;
    const list = byParent.get(parent) ?? [];
    list.push(host);
    byParent.set(parent, list);
  }
  const folded = new Set<string>();
  for (const [parent, hosts] of byParent) {
    if (hosts.length < minSiblings) continue;
    groups.push(group('host', `*.${parent}`, hosts.flatMap((h) => names.get(h)!)));
    for (const h of hosts) folded.add(h);
  }
  for (const [host, members] of names) if (!folded.has(host)) groups.push(group('host', host, members));
  return groups.sort((a, b) => a.kind.localeCompare(b.kind) || a.value.localeCompare(b.value));
}

function group(kind: EgressGroup['kind'], value: string, members: MergedDestination[]): EgressGroup {
  return {
    kind,
    value,
    ports: [...new Set(members.map((m) => m.port))].sort((a, b) => a - b),
    members,
    uninspectable: members.some((m) => m.scheme === 'tcp' || (m.decisions.uninspected ?? 0) > 0),
  };
}

// Second-level registries under country codes (example.co.uk): without a
// public-suffix list these are the common ones; a miss only means a glob
// needs one more label than it could have had, never a broader one.
const SECOND_LEVEL_REGISTRIES = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu']);

/** The parent domain when it is narrower than a registry suffix; undefined otherwise. */
export function parentOf(host: string): string | undefined {
  const labels = host.split('.');
  const parent = labels.slice(1);
  if (parent.length < 2) return undefined;
  if (parent.length === 2 && parent[1]!.length === 2 && SECOND_LEVEL_REGISTRIES.has(parent[0]!)) return undefined;
  return parent.join('.');
}
