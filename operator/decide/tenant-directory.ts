// Builds the tenant directory (tenants.yaml, format and reader in
// proxy/tenancy/directory.ts) one namespace's sidecar reads. Pure and
// deterministic, so equal inputs give equal bytes and an unchanged directory
// never rewrites a ConfigMap.
//
// A sidecar needs to tell three kinds of in-cluster destination apart: its
// own tenant's (allowed), shared infrastructure (allowed), and everything
// else (denied under denyCrossTenant). Only the first two need names, so only
// they are listed, with their Services and Pods. Every other in-cluster
// address only has to be recognised as in-cluster: the Service and Pod ranges
// (clusterNetworks) do that, and an address of another namespace outside
// those ranges (pod networks the operator cannot read) is added to them as a
// bare host. No other tenant's name, namespaces or workloads reach a copy.
import { BlockList } from 'node:net';
import { stringify } from 'yaml';
import { API_VERSION } from '../../proxy/profile/document-kinds';
import { parseCidr } from '../../proxy/policy/egress-syntax';
import { TENANT_DIRECTORY_KIND, normalizeAddress, type TenantDirectorySpec } from '../../proxy/tenancy/directory';
import { contentHash, type PodView, type ServiceView } from '../model/views';

export interface DirectoryInputs {
  /** Opted-in namespace -> tenant. */
  tenants: ReadonlyMap<string, string>;
  /** Namespaces every tenant may reach (kube-system: DNS); listed with their addresses. */
  sharedNamespaces: readonly string[];
  services: Iterable<ServiceView>;
  pods: Iterable<PodView>;
  /** Service CIDRs (and any other in-cluster ranges) when known. */
  clusterNetworks: readonly string[];
}

/** Whose copy: the namespace's tenant and the shared namespaces its profile selects. */
export interface DirectoryView {
  tenant: string;
  /** Shared namespaces beyond inputs.sharedNamespaces (resolved from the profile's tenancy.sharedNamespaces). */
  sharedNamespaces: readonly string[];
}

type Entry = TenantDirectorySpec['addresses'][number];

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const entryOrder = (a: Entry, b: Entry): number =>
  byText(a.namespace, b.namespace) || byText(a.name ?? '', b.name ?? '') || byText(a.cidr, b.cidr);

export function buildTenantDirectory(inputs: DirectoryInputs, view: DirectoryView): TenantDirectorySpec {
  const own = new Set([...inputs.tenants].filter(([, tenant]) => tenant === view.tenant).map(([name]) => name));
  // A namespace of this tenant stays the tenant's even when a selector calls it shared.
  const shared = new Set([...inputs.sharedNamespaces, ...view.sharedNamespaces].filter((ns) => !own.has(ns)));
  const listed = (ns: string): boolean => own.has(ns) || shared.has(ns);
  const namespaces: TenantDirectorySpec['namespaces'] = [
    ...[...own].map((name) => ({ name, tenant: view.tenant })),
    // Listed as shared only, even when another tenant owns it: its tenant's name is not this copy's business.
    ...[...shared].map((name) => ({ name, shared: true })),
  ].sort((a, b) => byText(a.name, b.name));

  const declared = new BlockList();
  for (const n of inputs.clusterNetworks) {
    const c = parseCidr(n);
    if (c.ok) declared.addSubnet(c.value.address, c.value.prefix, c.value.family);
  }
  const foreign = new Set<string>();
  const unlisted = (ips: readonly string[]): void => {
    for (const ip of ips) {
      const a = normalizeAddress(ip);
      if (a && !declared.check(a.address, a.family)) foreign.add(`${a.address}/${a.family === 'ipv4' ? 32 : 128}`);
    }
  };

  const services: Entry[] = [];
  for (const svc of inputs.services) {
    if (!listed(svc.namespace)) unlisted(svc.clusterIPs);
    else for (const ip of svc.clusterIPs) services.push({ cidr: ip, namespace: svc.namespace, kind: 'Service', name: svc.name });
  }
  const pods: Entry[] = [];
  for (const pod of inputs.pods) {
    if (!listed(pod.namespace)) unlisted(pod.ips);
    else for (const ip of pod.ips) pods.push({ cidr: ip, namespace: pod.namespace, kind: 'Pod', name: pod.name });
  }
  const clusterNetworks = [...new Set(inputs.clusterNetworks)].sort(byText).concat([...foreign].sort(byText));
  // Services first: the reader keeps the first entry for an address, and a
  // Service's address outlives any one Pod's.
  const spec: TenantDirectorySpec = {
    apiVersion: API_VERSION,
    kind: TENANT_DIRECTORY_KIND,
    ...(clusterNetworks.length > 0 ? { clusterNetworks } : {}),
    namespaces,
    addresses: [...services.sort(entryOrder), ...pods.sort(entryOrder)],
  };
  // The version names the content, so a sidecar's reload log says which one it has.
  const { apiVersion, kind, ...rest } = spec;
  return { apiVersion, kind, version: contentHash(spec).slice(0, 12), ...rest };
}

export function renderTenantDirectory(directory: TenantDirectorySpec): string {
  return (
    "# Written by kube-dlp-operator: this namespace's tenant, the shared namespaces and their addresses;\n" +
    '# every other in-cluster address is only known to be in-cluster. Edits are overwritten.\n' +
    stringify(directory, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
