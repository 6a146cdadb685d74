// The tenant directory format: parsing, every validation issue reported with
// its path, longest-prefix address ownership, IPv6 spellings, and hot reload
// through real filesystem events (no fixed sleeps: each test awaits the event).
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTenantDirectory, TenantDirectoryWatcher, TenantDirectoryError, type TenantDirectory } from '../../proxy/tenancy';

const doc = (body: string) => `apiVersion: kubedlp.io/v1alpha1\nkind: TenantDirectory\n${body}`;

const SAMPLE = doc(`
version: "7"
clusterDomains: [corp.k8s]
clusterNetworks: [10.96.0.0/12, "fd00:96::/64"]
namespaces:
  - {name: team-a, tenant: acme}
  - {name: team-b, tenant: globex}
  - {name: monitoring, shared: true}
addresses:
  - {cidr: 10.96.0.10, namespace: team-a, kind: Service, name: api}
  - {cidr: 10.96.0.0/24, namespace: team-b, kind: Pod}
  - {cidr: 10.96.0.0/16, namespace: monitoring}
  - {cidr: "fd00:96:0:0::20", namespace: team-b, kind: Service, name: db}
`);

t.test('a valid directory: namespaces, domains, version', async (t) => {
  const d = parseTenantDirectory(SAMPLE);
  t.equal(d.version, '7');
  t.same(d.clusterDomains, ['corp.k8s']);
  t.same(d.namespace('team-a'), { name: 'team-a', tenant: 'acme', shared: false });
  t.same(d.namespace('monitoring'), { name: 'monitoring', tenant: undefined, shared: true });
  t.equal(d.namespace('nope'), undefined);
  t.match(d.contentVersion, /^[0-9a-f]{16}$/);
});

t.test('addresses: longest prefix wins, cluster networks are unknown, the rest is outside', async (t) => {
  const d = parseTenantDirectory(SAMPLE);
  const ns = (a: string) => {
    const o = d.ownerOf(a);
    return o === undefined || o === 'unknown' ? o : o.namespace;
  };
  t.equal(ns('10.96.0.10'), 'team-a', '/32 beats /24 and /16');
  t.match(d.ownerOf('10.96.0.10'), { entry: 'Service/api 10.96.0.10/32' });
  t.equal(ns('10.96.0.11'), 'team-b', '/24 beats /16');
  t.equal(ns('10.96.7.1'), 'monitoring');
  t.equal(ns('10.100.0.1'), 'unknown', 'inside clusterNetworks, in no entry');
  t.equal(ns('192.0.2.1'), undefined, 'outside the cluster');
  t.equal(ns('::ffff:10.96.0.10'), 'team-a', 'v4-mapped IPv6 is the IPv4 address');
  t.equal(ns('[fd00:96::20]'), 'team-b', 'bracketed and compressed IPv6');
  t.equal(ns('FD00:96:0:0:0:0:0:20'), 'team-b', 'upper case, uncompressed');
  t.equal(ns('fd00:96::21'), 'unknown');
  t.equal(ns('not-an-ip'), undefined);
});

t.test('invalid directories report every issue with a path', async (t) => {
  const bad = doc(`
clusterNetworks: [10.0.0.0/40]
namespaces:
  - {name: team-a, tenant: acme}
  - {name: team-a, tenant: other}
  - {name: lonely}
  - {name: Bad_Name, tenant: x}
addresses:
  - {cidr: 300.1.1.1, namespace: team-a}
  - {cidr: 10.0.0.1, namespace: team-a, colour: blue}
`);
  const err = t.throws(() => parseTenantDirectory(bad, 'tenants.yaml')) as TenantDirectoryError;
  t.equal(err.code, 'KDLP_TENANTS_INVALID');
  t.match(err.message, /tenants\.yaml/);
  const paths = err.issues.map((i) => i.path);
  t.ok(paths.includes('namespaces.3.name'), 'bad namespace name');
  t.ok(paths.some((p) => p.startsWith('addresses.1')), 'unknown field');

  const semantic = doc(`
clusterNetworks: [10.0.0.0/40]
namespaces:
  - {name: team-a, tenant: acme}
  - {name: team-a, tenant: other}
  - {name: lonely}
addresses:
  - {cidr: 300.1.1.1, namespace: team-a}
`);
  const err2 = t.throws(() => parseTenantDirectory(semantic)) as TenantDirectoryError;
  t.same(
    err2.issues.map((i) => i.path).sort(),
    ['addresses.0.cidr', 'clusterNetworks.0', 'namespaces.1.name', 'namespaces.2'],
    'duplicate, no tenant, bad address, bad network: all at once',
  );
  t.throws(() => parseTenantDirectory('kind: Something\napiVersion: v1\n'), { code: 'KDLP_TENANTS_INVALID' });
  t.throws(() => parseTenantDirectory('{ not yaml'), /not YAML/);
  t.same(parseTenantDirectory(doc('')).namespace('x'), undefined, 'empty lists are fine');
});

// The watcher never keeps a process alive (a proxy's sockets do); the test holds the loop open instead.
function keepAlive(t: Test) {
  const timer = setInterval(() => undefined, 1000);
  t.teardown(() => clearInterval(timer));
}

const nextReload = (w: TenantDirectoryWatcher) => once(w, 'reload') as Promise<[TenantDirectory, TenantDirectory]>;

t.test('hot reload: a change is swapped in, a bad one keeps the last good directory', async (t) => {
  const dir = t.testdir({ 'tenants.yaml': SAMPLE });
  const path = join(dir, 'tenants.yaml');
  keepAlive(t);
  const w = new TenantDirectoryWatcher(path, { debounceMs: 10 });
  t.teardown(() => w.stop());
  const first = await w.start();
  t.equal(first.namespace('team-b')?.tenant, 'globex');

  const reloaded = nextReload(w);
  writeFileSync(path, SAMPLE.replace('tenant: globex', 'tenant: acme'));
  const [next, previous] = await reloaded;
  t.equal(previous, first);
  t.equal(next.namespace('team-b')?.tenant, 'acme');
  t.equal(w.current(), next);
  t.equal(first.namespace('team-b')?.tenant, 'globex', 'the old directory object is unchanged');

  const failed = once(w, 'reloadError') as Promise<[TenantDirectoryError]>;
  writeFileSync(path, 'kind: nope');
  const [err] = await failed;
  t.equal(err.code, 'KDLP_TENANTS_INVALID');
  t.equal(w.current(), next, 'last good directory stays');
  t.equal(await w.checkNow(), 'invalid');

  // ConfigMap-style swap: a new file renamed over the old one.
  const swapped = nextReload(w);
  writeFileSync(join(dir, '.tmp'), SAMPLE);
  renameSync(join(dir, '.tmp'), path);
  const [third] = await swapped;
  t.equal(third.namespace('team-b')?.tenant, 'globex');
  await w.checkNow(); // may join the check the rename's events started
  t.equal(await w.checkNow(), 'unchanged', 'same bytes again: no reload');
});

t.test('a missing file fails the start with a stable code', async (t) => {
  const w = new TenantDirectoryWatcher(join(t.testdir(), 'absent.yaml'));
  await t.rejects(w.start(), { code: 'KDLP_TENANTS_UNREADABLE' });
  w.stop();
});
