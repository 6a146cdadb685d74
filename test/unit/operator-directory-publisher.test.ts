// The tenant directory publisher: rebuilds after a quiet period and once the
// namespace queue is idle (bounded by a deadline), fans out only when the
// content changed, and hands back namespaces whose stale copy was kept.
import t from 'tap';
import { waitFor } from '../envtest/wait';
import { DirectoryPublisher, type PublishedDirectory } from '../../operator/controller/directory-publisher';
import type { NamespaceView, PodView, ServiceView } from '../../operator/model/views';
import type { ServiceCidrView } from '../../operator/controller/caches';

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
const optedIn = (name: string, tenant = name): NamespaceView => ({
  name,
  uid: name,
  labels: {},
  annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': tenant },
  terminating: false,
});
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = { operatorNamespace: 'kube-dlp-system' };

t.test('first use builds; a rebuild with the same content is not a change', async (t) => {
  const { namespaces, src } = sources();
  namespaces.push(optedIn('a'), optedIn('b', 'acme'));
  const calls: [boolean, string[]][] = [];
  const p = new DirectoryPublisher(src, { ctx, onRebuilt: (_d, changed, deferred) => calls.push([changed, [...deferred]]) });
  const dir = p.current();
  t.match(dir.text, /name: b\n {4}tenant: acme/);
  t.match(dir.text, /clusterNetworks:\n {2}- 10\.0\.0\.0\/24/);
  t.same(dir.managed.map((m) => m.name), ['a', 'b']);
  p.rebuild();
  t.same(calls, [[true, []], [false, []]]);
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
    onRebuilt: (d, changed) => changed && rebuilt.push(d),
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
  t.match(rebuilt[0]!.text, /name: c/);
  p.stop();
});

t.test('the deadline publishes even while the queue stays busy', async (t) => {
  const { namespaces, src } = sources();
  const rebuilt: PublishedDirectory[] = [];
  const p = new DirectoryPublisher(src, { ctx, quietMs: 10, maxDelayMs: 50, busy: () => true, onRebuilt: (d, changed) => changed && rebuilt.push(d) });
  p.current();
  rebuilt.length = 0;
  namespaces.push(optedIn('d'));
  p.invalidate();
  await until('one rebuild', () => rebuilt.length === 1);
  t.match(rebuilt[0]!.text, /name: d/);
  p.stop();
});

t.test('deferred namespaces are handed back by the next rebuild, changed or not', async (t) => {
  const { src } = sources();
  const calls: [boolean, string[]][] = [];
  const p = new DirectoryPublisher(src, { ctx, quietMs: 10, onRebuilt: (_d, changed, deferred) => calls.push([changed, [...deferred]]) });
  p.current();
  p.invalidate();
  p.defer('x');
  p.defer('y');
  p.defer('x');
  await until('the second rebuild', () => calls.length === 2);
  t.same(calls[1], [false, ['x', 'y']]);
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
