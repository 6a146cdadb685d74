// Tenant isolation decisions: every in-cluster DNS form, custom cluster
// domains, addresses from the directory, both identities of one destination,
// exceptions, shared namespaces, and unknown tenants failing closed.
import t from 'tap';
import {
  clusterNameOf,
  emptyTenantDirectory,
  parseClusterDomains,
  parseTenantDirectory,
  TenancyGuard,
  type TenancyPolicy,
} from '../../proxy/tenancy';

const directory = parseTenantDirectory(`apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
clusterNetworks: [10.96.0.0/12]
namespaces:
  - {name: team-a, tenant: acme}
  - {name: team-a2, tenant: acme}
  - {name: team-b, tenant: globex}
  - {name: kube-dns, shared: true}
addresses:
  - {cidr: 10.96.1.10, namespace: team-a2, kind: Service, name: api}
  - {cidr: 10.96.2.10, namespace: team-b, kind: Service, name: api}
  - {cidr: 10.96.3.10, namespace: kube-dns}
`);

const on: TenancyPolicy = { denyCrossTenant: true, exceptions: [] };
const guard = (domains = ['cluster.local'], dir = directory) =>
  new TenancyGuard({ identity: { namespace: 'team-a', tenant: 'acme' }, clusterDomains: domains, directory: () => dir });

t.test('names into another tenant are denied in every DNS form', async (t) => {
  const g = guard();
  for (const host of [
    'api.team-b',
    'api.team-b.svc',
    'api.team-b.svc.cluster.local',
    'API.Team-B.SVC.cluster.local.',
    'pod-0.api.team-b.svc.cluster.local',
    '10-96-2-10.team-b.pod.cluster.local',
    '10-96-2-10.team-b.pod',
    'team-b.svc.cluster.local',
  ]) {
    const d = g.decide({ host }, on);
    t.same([d.allowed, d.reason, d.namespace, d.tenant, d.via], [false, 'cross-tenant', 'team-b', 'globex', 'name'], host);
  }
  t.match(g.decide({ host: 'api.team-b' }, on).detail, /namespace team-b belongs to tenant globex, not acme/);
});

t.test('own namespace, same tenant and the outside world are allowed', async (t) => {
  const g = guard();
  const cases: Array<[string, string]> = [
    ['api', 'same-namespace'],
    ['api.team-a', 'same-namespace'],
    ['api.team-a.svc.cluster.local', 'same-namespace'],
    ['api.team-a2.svc', 'same-tenant'],
    ['api.team-a2', 'same-tenant'],
    ['coredns.kube-dns.svc.cluster.local', 'shared-namespace'],
    ['example.com', 'outside-cluster'],
    ['api.example.com', 'outside-cluster'],
    ['svc.example.com', 'outside-cluster'],
    ['203.0.113.9', 'outside-cluster'],
  ];
  for (const [host, reason] of cases) {
    const d = g.decide({ host }, on);
    t.same([d.allowed, d.reason], [true, reason], host);
  }
});

t.test('two-label names are in-cluster only when the second label is a namespace', async (t) => {
  const ctx = { clusterDomains: ['cluster.local'], ownNamespace: 'team-a', isNamespace: (n: string) => n === 'team-b' };
  t.same(clusterNameOf('api.team-b', ctx), { kind: 'namespace', namespace: 'team-b' });
  t.equal(clusterNameOf('example.com', ctx), undefined);
  t.equal(clusterNameOf('a.b.c', ctx), undefined);
  t.same(clusterNameOf('cluster.local', ctx), { kind: 'cluster-unknown' });
  t.same(clusterNameOf('weird.cluster.local', ctx), { kind: 'cluster-unknown' });
});

t.test('custom cluster domains, from flags and from the directory', async (t) => {
  t.same(parseClusterDomains([]), ['cluster.local']);
  t.same(parseClusterDomains(['corp.k8s, Cluster.Local.', 'corp.k8s']), ['corp.k8s', 'cluster.local']);
  t.throws(() => parseClusterDomains(['bad domain']), { code: 'KDLP_TENANCY_CONFIG' });

  const flagged = guard(['corp.k8s']);
  t.equal(flagged.decide({ host: 'api.team-b.svc.corp.k8s' }, on).reason, 'cross-tenant');
  t.equal(flagged.decide({ host: 'x.corp.k8s' }, on).reason, 'unknown-tenant', 'inside the zone, no namespace');
  t.equal(guard(['cluster.local']).decide({ host: 'api.team-b.svc.corp.k8s' }, on).reason, 'outside-cluster', 'an unconfigured cluster domain is not recognised');
  t.equal(guard(['cluster.local']).decide({ host: 'x.corp.k8s' }, on).reason, 'outside-cluster');

  const withDomain = parseTenantDirectory(`apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
clusterDomains: [corp.k8s]
namespaces: [{name: team-b, tenant: globex}]
`);
  t.equal(guard(['cluster.local'], withDomain).decide({ host: 'x.corp.k8s' }, on).reason, 'unknown-tenant');
});

t.test('addresses: by IP literal, by original destination, and the stricter of name and address', async (t) => {
  const g = guard();
  t.same(pick(g.decide({ host: '10.96.2.10' }, on)), [false, 'cross-tenant', 'address']);
  t.match(g.decide({ host: '10.96.2.10' }, on).detail, /Service\/api 10\.96\.2\.10\/32/);
  t.same(pick(g.decide({ host: '[::ffff:10.96.2.10]' }, on)), [false, 'cross-tenant', 'address']);
  // The same mapped addresses spelled in hex groups (how a URL serializer writes them) are the same hosts.
  t.same(pick(g.decide({ host: '[::ffff:a60:20a]' }, on)), [false, 'cross-tenant', 'address']);
  t.same(pick(g.decide({ host: '[0:0:0:0:0:FFFF:0A60:010A]' }, on)), [true, 'same-tenant', 'address']);
  t.same(pick(g.decide({ host: '174064138' }, on)), [false, 'cross-tenant', 'address'], 'decimal shorthand of 10.96.2.10');
  t.same(pick(g.decide({ host: '10.96.1.10' }, on)), [true, 'same-tenant', 'address']);
  t.same(pick(g.decide({ host: '10.96.9.9' }, on)), [false, 'unknown-tenant', 'address'], 'cluster network, no entry: fail closed');
  // What a platform team reads in the audit log: whose tenant, and which setting opens it.
  t.equal(
    g.decide({ host: '10.96.9.9' }, on).detail,
    'in-cluster address outside tenant acme and not shared (tenancy.sharedNamespaces or tenancy.exceptions open it)',
  );
  t.equal(
    g.decide({ host: 'db.infra.svc.cluster.local' }, on).detail,
    "namespace infra is not tenant acme's and not shared (tenancy.sharedNamespaces or tenancy.exceptions open it)",
  );

  // Transparent mode: the Host header claims an allowed name, the connection goes to another tenant.
  t.same(pick(g.decide({ host: 'api.team-a2', address: '10.96.2.10' }, on)), [false, 'cross-tenant', 'address']);
  t.same(pick(g.decide({ host: 'api.team-b', address: '10.96.1.10' }, on)), [false, 'cross-tenant', 'name']);
  t.same(pick(g.decide({ host: 'example.com', address: '203.0.113.1' }, on)), [true, 'outside-cluster', undefined]);
  t.same(pick(g.decide({ address: '10.96.1.10' }, on)), [true, 'same-tenant', 'address'], 'no name at all (raw TCP)');
});

t.test('exceptions by namespace or tenant; switched off entirely', async (t) => {
  const g = guard();
  t.same(pick(g.decide({ host: 'api.team-b' }, { denyCrossTenant: true, exceptions: [{ namespace: 'team-b' }] })), [true, 'exception', 'name']);
  t.same(pick(g.decide({ host: '10.96.2.10' }, { denyCrossTenant: true, exceptions: [{ tenant: 'globex' }] })), [true, 'exception', 'address']);
  t.equal(g.decide({ host: 'api.team-b' }, { denyCrossTenant: true, exceptions: [{ tenant: 'other' }] }).allowed, false);
  t.same(pick(g.decide({ host: 'api.team-b' }, { denyCrossTenant: false, exceptions: [] })), [true, 'disabled', undefined]);
});

t.test('without a directory only the own namespace is known: other namespaces fail closed', async (t) => {
  const g = guard(['cluster.local'], emptyTenantDirectory());
  t.equal(g.decide({ host: 'api.team-a.svc' }, on).allowed, true);
  t.same(pick(g.decide({ host: 'api.team-b.svc' }, on)), [false, 'unknown-tenant', 'name']);
  t.equal(g.decide({ host: 'api.team-b' }, on).reason, 'outside-cluster', 'two labels: no way to know team-b is a namespace');
  t.equal(g.decide({ host: '10.96.2.10' }, on).reason, 'outside-cluster', 'no clusterNetworks, no addresses');
});

function pick(d: { allowed: boolean; reason: string; via?: string }) {
  return [d.allowed, d.reason, d.via];
}
