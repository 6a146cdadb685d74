// The tenant directory publisher: rebuilds after a quiet period and once the
// namespace queue is idle (bounded by a deadline), hands back only the
// namespaces whose copy changed, and those whose stale copy was kept; each
// namespace's copy follows its profile's shared namespaces.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { DirectoryPublisher, type PublishedDirectory } from '../../operator/controller/directory-publisher';
import type { NamespaceView, PodView, ServiceView } from '../../operator/model/views';
import type { ServiceCidrView } from '../../operator/controller/caches';
import { parseTenantDirectory } from '../../proxy/tenancy/directory';

function sources() {
  const namespaces: NamespaceView[] = [];
  const services: ServiceView[] = [];
  return {
    namespaces,
    services,
    src: {
      namespaces: { values: () => namespaces },
      services: { values: () => services },
      pods: { values: (): PodView[] => [] },
      serviceCIDRs: { values: (): ServiceCidrView[] => [{ name: 'kubernetes', cidrs: ['10.0.0.0/24'] }] },
    },
  };
}
const optedIn = (name: string, tenant = name, labels: Record<string, string> = {}): NamespaceView => ({
  name,
  uid: name,
  labels,
  annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': tenant },
  terminating: false,
});
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = { operatorNamespace: 'kube-dlp-system' };

t.test('first use builds; a rebuild with the same content is not a change', async (t) => {
  const { namespaces, src } = sources();
  namespaces.push(optedIn('a'), optedIn('b', 'acme'));
  const calls: [string[], string[]][] = [];
  const p = new DirectoryPublisher(src, { ctx, onRebuilt: (_d, changed, deferred) => calls.push([[...changed], [...deferred]]) });
  const dir = p.current();
  const b = dir.copies.get('b')!.text;
  t.match(b, /name: b\n {4}tenant: acme/);
  t.match(b, /clusterNetworks:\n {2}- 10\.0\.0\.0\/24/);
  t.notMatch(b, /name: a\b/, "tenant a's namespace is not in b's copy");
  t.same(dir.managed.map((m) => m.name), ['a', 'b']);
  p.rebuild();
  t.same(calls, [[['a', 'b'], []], [[], []]]);
  p.stop();
});

const until = (what: string, cond: () => boolean) => waitFor(cond, { what, intervalMs: 5 });

t.test('changes are debounced; the rebuild waits for an idle queue', async (t) => {
  const { namespaces, src } = sources();
  let busy = true;
  let busyChecks = 0;
  const rebuilt: PublishedDirectory[] = [];
  const p = new DirectoryPublisher(src, {
    ctx,
    quietMs: 10,
    maxDelayMs: 600_000,
    busy: () => (busyChecks++, busy),
    onRebuilt: (d, changed) => changed.length > 0 && rebuilt.push(d),
  });
  p.current();
  rebuilt.length = 0;
  namespaces.push(optedIn('c'));
  p.invalidate();
  t.ok(p.pending);
  await until('three busy checks', () => busyChecks >= 3);
  t.equal(rebuilt.length, 0, 'quiet several times over, but the queue is busy: still waiting');
  busy = false;
  await until('one rebuild', () => rebuilt.length === 1);
  t.notOk(p.pending);
  t.match(rebuilt[0]!.copies.get('c')!.text, /name: c/);
  p.stop();
});

t.test('the deadline publishes even while the queue stays busy', async (t) => {
  const { namespaces, src } = sources();
  const rebuilt: PublishedDirectory[] = [];
  const p = new DirectoryPublisher(src, { ctx, quietMs: 10, maxDelayMs: 50, busy: () => true, onRebuilt: (d, changed) => changed.length > 0 && rebuilt.push(d) });
  p.current();
  rebuilt.length = 0;
  namespaces.push(optedIn('d'));
  p.invalidate();
  await until('one rebuild', () => rebuilt.length === 1);
  t.match(rebuilt[0]!.copies.get('d')!.text, /name: d/);
  p.stop();
});

t.test('deferred namespaces are handed back by the next rebuild, changed or not', async (t) => {
  const { src } = sources();
  const calls: [string[], string[]][] = [];
  const p = new DirectoryPublisher(src, { ctx, quietMs: 10, onRebuilt: (_d, changed, deferred) => calls.push([[...changed], [...deferred]]) });
  p.current();
  p.invalidate();
  p.defer('x');
  p.defer('y');
  p.defer('x');
  await until('the second rebuild', () => calls.length === 2);
  t.same(calls[1], [[], ['x', 'y']]);
  p.stop();
});

t.test('stop() cancels pending rebuilds', async (t) => {
  const { src } = sources();
  let n = 0;
  const p = new DirectoryPublisher(src, { ctx, quietMs: 10, onRebuilt: () => n++ });
  p.current();
  p.invalidate();
  p.stop();
  await tick(50);
  t.equal(n, 1, 'only the first build');
});

t.test('a rebuild hands back only the namespaces whose copy changed', async (t) => {
  const { namespaces, services, src } = sources();
  namespaces.push(optedIn('a1', 'acme'), optedIn('a2', 'acme'), optedIn('g1', 'globex'));
  const calls: string[][] = [];
  const p = new DirectoryPublisher(src, { ctx, onRebuilt: (_d, changed) => calls.push([...changed]) });
  p.current();
  services.push({ namespace: 'a1', name: 'api', clusterIPs: ['10.0.0.7'] });
  p.rebuild();
  t.same(calls[1], ['a1', 'a2'], "acme's copies list the new Service; globex's only knows 10.0.0.0/24 is in-cluster");
  t.equal(p.current().copies.get('a1'), p.current().copies.get('a2'), 'one rendering per tenant');
  services.push({ namespace: 'elsewhere', name: 'x', clusterIPs: ['192.168.5.5'] });
  p.rebuild();
  t.same(calls[2], ['a1', 'a2', 'g1'], 'an address outside the known ranges is added to every copy as in-cluster');
  p.stop();
});

t.test("each copy follows its profile's shared namespaces, resolved against namespace labels", async (t) => {
  const { namespaces, services, src } = sources();
  namespaces.push(optedIn('a1', 'acme'), optedIn('g1', 'globex'));
  namespaces.push({ ...optedIn('db', 'db', { 'kubedlp.io/shared': 'true' }), annotations: {} });
  namespaces.push({ ...optedIn('monitoring', 'monitoring', { team: 'sre' }), annotations: {} });
  services.push({ namespace: 'db', name: 'postgres', clusterIPs: ['10.0.0.30'] }, { namespace: 'monitoring', name: 'otel', clusterIPs: ['10.0.0.40'] });
  let globexSelectors = [{ matchLabels: { team: 'sre' } }];
  const p = new DirectoryPublisher(src, {
    ctx,
    sharedSelectorsOf: (m) => (m.tenant === 'globex' ? globexSelectors : undefined) ?? [{ matchLabels: { 'kubedlp.io/shared': 'true' } }],
    onRebuilt: () => undefined,
  });
  const acme = parseTenantDirectory(p.copyFor({ name: 'a1', tenant: 'acme', profileName: 'default' }).text);
  t.equal(acme.namespace('db')?.shared, true, 'the default selector: label kubedlp.io/shared=true');
  t.same(acme.ownerOf('10.0.0.30'), { namespace: 'db', entry: 'Service/postgres 10.0.0.30/32' });
  t.equal(acme.namespace('monitoring'), undefined);
  t.equal(acme.ownerOf('10.0.0.40'), 'unknown');
  const globex = parseTenantDirectory(p.copyFor({ name: 'g1', tenant: 'globex', profileName: 'default' }).text);
  t.equal(globex.namespace('monitoring')?.shared, true);
  t.equal(globex.namespace('db'), undefined);
  // A profile edit is picked up by the next reconcile of the namespace, without a rebuild.
  globexSelectors = [];
  const none = parseTenantDirectory(p.copyFor({ name: 'g1', tenant: 'globex', profileName: 'default' }).text);
  t.equal(none.namespace('monitoring'), undefined);
  t.same(none.namespace('kube-system')?.shared, true, 'kube-system stays shared');
  p.stop();
});

t.test('a namespace that opted in (or moved tenant) since the last rebuild is in its own copy at once', async (t) => {
  const { namespaces, src } = sources();
  namespaces.push(optedIn('a1', 'acme'));
  const calls: string[][] = [];
  const p = new DirectoryPublisher(src, { ctx, onRebuilt: (_d, changed) => calls.push([...changed]) });
  p.current();
  namespaces.push(optedIn('a2', 'acme'));
  const copy = parseTenantDirectory(p.copyFor({ name: 'a2', tenant: 'acme', profileName: 'default' }).text);
  t.equal(copy.namespace('a2')?.tenant, 'acme');
  t.equal(copy.namespace('a1')?.tenant, 'acme');
  t.same(calls[1], ['a1', 'a2'], "a1's copy changed too, and is handed back");
  namespaces[1] = optedIn('a2', 'globex');
  const moved = parseTenantDirectory(p.copyFor({ name: 'a2', tenant: 'globex', profileName: 'default' }).text);
  t.equal(moved.namespace('a2')?.tenant, 'globex');
  t.equal(moved.namespace('a1'), undefined);
  p.stop();
});
