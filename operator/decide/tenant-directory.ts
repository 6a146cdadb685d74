// Builds the tenant directory (tenants.yaml, format and reader in
// proxy/tenancy/directory.ts) from the informers' views. Pure and
// deterministic, so equal inputs give equal bytes and an unchanged directory
// never rewrites a ConfigMap. Only opted-in and shared namespaces are listed,
// which bounds its size by what the operator manages, not by the cluster.
import { stringify } from 'yaml';
import { API_VERSION } from '../../proxy/profile/schema';
import { TENANT_DIRECTORY_KIND, type TenantDirectorySpec } from '../../proxy/tenancy/directory';
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

type Entry = TenantDirectorySpec['addresses'][number];

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const entryOrder = (a: Entry, b: Entry): number =>
  byText(a.namespace, b.namespace) || byText(a.name ?? '', b.name ?? '') || byText(a.cidr, b.cidr);

export function buildTenantDirectory(inputs: DirectoryInputs): TenantDirectorySpec {
  const shared = new Set(inputs.sharedNamespaces.filter((ns) => !inputs.tenants.has(ns)));
  const listed = (ns: string): boolean => inputs.tenants.has(ns) || shared.has(ns);
  const namespaces: TenantDirectorySpec['namespaces'] = [
    ...[...inputs.tenants].map(([name, tenant]) => ({ name, tenant })),
    ...[...shared].map((name) => ({ name, shared: true })),
  ].sort((a, b) => byText(a.name, b.name));

  const services: Entry[] = [];
  for (const svc of inputs.services) {
    if (!listed(svc.namespace)) continue;
    for (const ip of svc.clusterIPs) services.push({ cidr: ip, namespace: svc.namespace, kind: 'Service', name: svc.name });
  }
  const pods: Entry[] = [];
  for (const pod of inputs.pods) {
    if (!listed(pod.namespace)) continue;
    for (const ip of pod.ips) pods.push({ cidr: ip, namespace: pod.namespace, kind: 'Pod', name: pod.name });
  }
  // Services first: the reader keeps the first entry for an address, and a
  // Service's address outlives any one Pod's.
  const spec: TenantDirectorySpec = {
    apiVersion: API_VERSION,
    kind: TENANT_DIRECTORY_KIND,
    ...(inputs.clusterNetworks.length > 0 ? { clusterNetworks: [...new Set(inputs.clusterNetworks)].sort(byText) } : {}),
    namespaces,
    addresses: [...services.sort(entryOrder), ...pods.sort(entryOrder)],
  };
  // The version names the content, so a sidecar's reload log says which one it has.
  const { apiVersion, kind, ...rest } = spec;
  return { apiVersion, kind, version: contentHash(spec).slice(0, 12), ...rest };
}

export function renderTenantDirectory(directory: TenantDirectorySpec): string {
  return (
    '# Written by kube-dlp-operator: opted-in namespaces, their tenants and addresses. Edits are overwritten.\n' +
    stringify(directory, { lineWidth: 0, aliasDuplicateObjects: false })
  );
}
