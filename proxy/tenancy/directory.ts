// The tenant directory: which tenant owns each namespace, and which
// namespace owns each in-cluster address (Service ClusterIPs, Pod IPs, Pod
// CIDRs). The operator renders it as `tenants.yaml` (mounted next to the
// profile); the proxy reads it to deny traffic to another tenant's workloads
// whether addressed by name or by IP. Example:
//
//   apiVersion: kubedlp.io/v1alpha1
//   kind: TenantDirectory
//   version: "1842"                      # operator's rendering version, logged on reload
//   clusterDomains: [cluster.local]      # optional, added to the proxy's --cluster-domain
//   clusterNetworks: [10.96.0.0/12, 10.244.0.0/16]
//   namespaces:
//     - {name: team-a, tenant: acme}
//     - {name: team-b, tenant: globex}
//     - {name: monitoring, shared: true} # reachable from every tenant
//   addresses:
//     - {cidr: 10.96.12.7, namespace: team-a, kind: Service, name: api}
//     - {cidr: 10.244.3.0/24, namespace: team-b, kind: Pod}
//
// Lookups are per request, so the file is compiled once into maps and
// prefix-length buckets; an address matches its longest prefix.
import { createHash } from 'node:crypto';
import { BlockList } from 'node:net';
import type { TenantDirectorySpec } from './directory-schema';
import { API_VERSION, TENANT_DIRECTORY_KIND } from '../profile/document-kinds';
import { TENANT_DIRECTORY } from '../profile/plain-schemas.generated';
import { conforms, withDefaults as fillDefaults } from '../profile/plain-schema';
import { typeBoxErrors } from '../profile/validate';
import { parse as parseYaml } from 'yaml';
import { parseCidr, stripBrackets, type Cidr } from '../policy/egress-syntax';
import { TenantDirectoryError, type DirectoryIssue } from './errors';
import { canonicalIpv6, reachedAddress } from '../http/ip-literal';


export interface NamespaceInfo {
  name: string;
  tenant?: string;
  shared: boolean;
}

export interface AddressOwner {
  namespace: string;
  /** The directory entry that matched, e.g. `Service/api 10.96.12.7/32`, for audit reasons. */
  entry: string;
}

export interface TenantDirectory {
  readonly version?: string;
  /** Content hash, to tell a real change from a rewrite. */
  readonly contentVersion: string;
  readonly clusterDomains: readonly string[];
  namespace(name: string): NamespaceInfo | undefined;
  /** The namespace owning this address (longest prefix), `unknown` inside clusterNetworks, else undefined. */
  ownerOf(address: string): AddressOwner | 'unknown' | undefined;
}

/** An empty directory: only the proxy's own namespace is known. */
export function emptyTenantDirectory(): TenantDirectory {
  return compileTenantDirectory({ apiVersion: API_VERSION, kind: TENANT_DIRECTORY_KIND, namespaces: [], addresses: [] }, 'empty');
}

export function parseTenantDirectory(text: string, source?: string): TenantDirectory {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new TenantDirectoryError('KDLP_TENANTS_INVALID', [{ path: '', message: `not YAML: ${(err as Error).message.split('\n')[0]}` }], source);
  }
  const withDefaults = fillDefaults(TENANT_DIRECTORY, doc ?? {});
  if (!conforms(TENANT_DIRECTORY, withDefaults)) throw new TenantDirectoryError('KDLP_TENANTS_INVALID', dedupe(schemaIssues(withDefaults)), source);
  const spec = withDefaults as TenantDirectorySpec;
  const issues = semanticIssues(spec);
  if (issues.length > 0) throw new TenantDirectoryError('KDLP_TENANTS_INVALID', issues, source);
  return compileTenantDirectory(spec, contentHash(text));
}

/**
 * What TypeBox says is wrong with a directory that does not conform. Loaded
 * only then: the sidecar reads valid directories without TypeBox (see
 * profile/plain-schema.ts).
 */
function schemaIssues(value: unknown): DirectoryIssue[] {
  return [...typeBoxErrors('TENANT_DIRECTORY', value)].map((e) => ({
    path: e.path.replace(/^\//, '').replace(/\//g, '.') || '',
    message: e.message,
  }));
}

export { TENANT_DIRECTORY_KIND, type TenantDirectorySpec };

function semanticIssues(spec: TenantDirectorySpec): DirectoryIssue[] {
  const issues: DirectoryIssue[] = [];
  const seen = new Set<string>();
  spec.namespaces.forEach((ns, i) => {
    if (seen.has(ns.name)) issues.push({ path: `namespaces.${i}.name`, message: `namespace "${ns.name}" is listed twice` });
    seen.add(ns.name);
    if (ns.tenant === undefined && ns.shared !== true) issues.push({ path: `namespaces.${i}`, message: 'needs a tenant or shared: true' });
  });
  spec.addresses.forEach((a, i) => {
    const c = parseCidr(a.cidr);
    if (!c.ok) issues.push({ path: `addresses.${i}.cidr`, message: c.error });
  });
  (spec.clusterNetworks ?? []).forEach((n, i) => {
    const c = parseCidr(n);
    if (!c.ok) issues.push({ path: `clusterNetworks.${i}`, message: c.error });
  });
  return issues;
}

interface PrefixBucket {
  prefix: number;
  /** Exact-host buckets (/32, /128) are a map; wider prefixes scan a short list. */
  hosts?: Map<string, AddressOwner>;
  networks?: Array<{ net: BlockList; owner: AddressOwner }>;
}

/** Addresses whose owner a directory remembers before it starts over. */
const OWNER_ANSWERS_KEPT = 4096;

function compileTenantDirectory(spec: TenantDirectorySpec, contentVersion: string): TenantDirectory {
  const namespaces = new Map<string, NamespaceInfo>(
    spec.namespaces.map((n) => [n.name, { name: n.name, tenant: n.tenant, shared: n.shared === true }]),
  );
  const buckets: Record<'ipv4' | 'ipv6', Map<number, PrefixBucket>> = { ipv4: new Map(), ipv6: new Map() };
  for (const a of spec.addresses) {
    const c = parseCidr(a.cidr);
    if (!c.ok) continue; // reported by semanticIssues
    const cidr = canonical(c.value);
    const owner: AddressOwner = {
      namespace: a.namespace,
      entry: `${a.kind ?? 'address'}${a.name ? `/${a.name}` : ''} ${cidr.address}/${cidr.prefix}`,
    };
    const familyBuckets = buckets[cidr.family];
    let bucket = familyBuckets.get(cidr.prefix);
    if (!bucket) {
      bucket = { prefix: cidr.prefix };
      familyBuckets.set(cidr.prefix, bucket);
    }
    if (cidr.prefix === (cidr.family === 'ipv4' ? 32 : 128)) {
      bucket.hosts ??= new Map();
      // First entry wins for duplicates: the operator lists Services before Pods.
      if (!bucket.hosts.has(cidr.address)) bucket.hosts.set(cidr.address, owner);
    } else {
      const net = new BlockList();
      net.addSubnet(cidr.address, cidr.prefix, cidr.family);
      (bucket.networks ??= []).push({ net, owner });
    }
  }
  const ordered = {
    ipv4: [...buckets.ipv4.values()].sort((a, b) => b.prefix - a.prefix),
    ipv6: [...buckets.ipv6.values()].sort((a, b) => b.prefix - a.prefix),
  };
  const clusterNets = new BlockList();
  for (const n of spec.clusterNetworks ?? []) {
    const c = parseCidr(n);
    if (c.ok) clusterNets.addSubnet(c.value.address, c.value.prefix, c.value.family);
  }

  // A pod talks to few destinations, asked about on every request, and each
  // BlockList check builds a SocketAddress (microseconds): answers are kept,
  // which is safe because a compiled directory never changes (a new one
  // starts empty). Bounded: a pod scanning addresses only resets it.
  const answers = new Map<string, AddressOwner | 'unknown' | null>();
  return Object.freeze({
    version: spec.version,
    contentVersion,
    clusterDomains: Object.freeze([...(spec.clusterDomains ?? [])]),
    namespace: (name: string) => namespaces.get(name),
    ownerOf(address: string): AddressOwner | 'unknown' | undefined {
      const known = answers.get(address);
      if (known !== undefined) return known ?? undefined;
      const answer = lookUp(address);
      if (answers.size >= OWNER_ANSWERS_KEPT) answers.clear();
      answers.set(address, answer ?? null);
      return answer;
    },
  });

  function lookUp(address: string): AddressOwner | 'unknown' | undefined {
    const parsed = normalizeAddress(address);
    if (!parsed) return undefined;
    for (const bucket of ordered[parsed.family]) {
      const hit = bucket.hosts?.get(parsed.address) ?? bucket.networks?.find((n) => n.net.check(parsed.address, parsed.family))?.owner;
      if (hit) return hit;
    }
    return clusterNets.check(parsed.address, parsed.family) ? 'unknown' : undefined;
  }
}

/** The address as BlockList and the host map see it: v4-mapped IPv6 becomes IPv4, IPv6 in canonical form. */
export function normalizeAddress(raw: string): { address: string; family: 'ipv4' | 'ipv6' } | undefined {
  let a = stripBrackets(raw.trim()).toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  // Either spelling of a mapped address (::ffff:10.0.0.1, ::ffff:a00:1) is the IPv4 host the directory lists.
  return reachedAddress(a);
}

/** One spelling per IPv6 address, so "fd00:0::1" and "fd00::1" hit the same map key. */
function canonical(c: Cidr): Cidr {
  return c.family === 'ipv6' ? { ...c, address: canonicalIpv6(c.address) ?? c.address } : c;
}

function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function dedupe(issues: DirectoryIssue[]): DirectoryIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
