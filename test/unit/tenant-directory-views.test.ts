// Per-namespace tenant directories, checked against full knowledge of the
// cluster: for random clusters (tenants, namespaces not opted in, Services in
// the Service range, Pods outside any known range), the sidecar of every
// opted-in namespace, loading only its own copy, decides every in-cluster
// address and name exactly as a guard that knew every tenant would, and its
// copy names nothing of another tenant.
import t from 'tap';
import fc from 'fast-check';
import { buildTenantDirectory, renderTenantDirectory, type DirectoryInputs } from '../../operator/decide/tenant-directory';
import { parseTenantDirectory } from '../../proxy/tenancy/directory';
import { TenancyGuard } from '../../proxy/tenancy/tenancy-guard';
import type { PodView, ServiceView } from '../../operator/model/views';

const TENANTS = ['tenant-red', 'tenant-blue', 'tenant-green'];
const SERVICE_RANGE = '10.96.0.0/16';

interface Cluster {
  /** namespace -> tenant, or undefined when not opted in. */
  owners: Map<string, string | undefined>;
  services: ServiceView[];
  pods: PodView[];
}

const clusterArb: fc.Arbitrary<Cluster> = fc
  .array(fc.option(fc.constantFrom(...TENANTS), { nil: undefined }), { minLength: 1, maxLength: 8 })
  .chain((owners) => {
    const names = owners.map((_, i) => `ns-${i}`);
    return fc
      .record({
        services: fc.array(fc.nat(names.length - 1), { maxLength: 12 }),
        pods: fc.array(fc.nat(names.length - 1), { maxLength: 12 }),
        shared: fc.nat(names.length),
      })
      .map(({ services, pods }) => ({
        owners: new Map(names.map((n, i) => [n, owners[i]])),
        // Unique addresses: a reused address has no single owner to compare with.
        services: services.map((i, k) => ({ namespace: names[i]!, name: `svc-${k}`, clusterIPs: [`10.96.1.${k + 1}`] })),
        pods: pods.map((i, k) => ({ namespace: names[i]!, name: `pod-${k}`, ips: [`10.244.${k}.7`], injected: true })),
      }));
  });

function inputsOf(c: Cluster): DirectoryInputs {
  return {
    tenants: new Map([...c.owners].filter((e): e is [string, string] => e[1] !== undefined)),
    sharedNamespaces: ['kube-system'],
    services: c.services,
    pods: c.pods,
    clusterNetworks: [SERVICE_RANGE],
  };
}

t.test('every copy decides like full knowledge, and names nothing of another tenant', async (t) => {
  fc.assert(
    fc.property(clusterArb, fc.nat(7), (cluster, sharedPick) => {
      const names = [...cluster.owners.keys()];
      for (const [ns, tenant] of cluster.owners) {
        if (tenant === undefined) continue;
        // The profile may share one namespace that is not opted in.
        const candidate = names[sharedPick % names.length]!;
        const shared = cluster.owners.get(candidate) === undefined ? [candidate] : [];
        const text = renderTenantDirectory(buildTenantDirectory(inputsOf(cluster), { tenant, sharedNamespaces: shared }));
        const body = text.replace(/^#.*\n/gm, '');
        for (const other of TENANTS.filter((x) => x !== tenant)) if (body.includes(other)) return false;
        for (const [otherNs, otherTenant] of cluster.owners) {
          if (otherTenant !== tenant && !shared.includes(otherNs) && new RegExp(`\\b${otherNs}\\b`).test(body)) return false;
        }
        const dir = parseTenantDirectory(text);
        const guard = new TenancyGuard({ identity: { namespace: ns, tenant }, clusterDomains: ['cluster.local'], directory: () => dir });
        const policy = { denyCrossTenant: true, exceptions: [] };
        const reachable = (target: string) => cluster.owners.get(target) === tenant || shared.includes(target);
        for (const s of cluster.services) {
          if (guard.decide({ address: s.clusterIPs[0] }, policy).allowed !== reachable(s.namespace)) return false;
          if (guard.decide({ host: `${s.name}.${s.namespace}.svc.cluster.local` }, policy).allowed !== reachable(s.namespace)) return false;
        }
        for (const p of cluster.pods) {
          if (guard.decide({ address: p.ips[0] }, policy).allowed !== reachable(p.namespace)) return false;
        }
        if (!guard.decide({ host: 'kube-dns.kube-system.svc.cluster.local' }, policy).allowed) return false;
      }
      return true;
    }),
    { seed: 1616, numRuns: 300 },
  );
  t.pass('300 random clusters');
});
