// Pods missing the sidecar: which they are, which workload recreates them,
// when a restart is still needed, and the per-namespace rate limit.
import t from 'tap';
import { groupByOwner, missesSidecar, needsRestart, podsMissingSidecar, podsOrphaned, podsProfileMissing } from '../../operator/rollout/missing-sidecar';
import { toRolloutPodView, type RolloutPodView } from '../../operator/rollout/pod-view';
import { WindowRateLimiter } from '../../operator/rollout/rate-limiter';

const view = (name: string, over: Partial<RolloutPodView> = {}): RolloutPodView => ({
  namespace: 'shop',
  name,
  uid: `uid-${name}`,
  injected: false,
  optedOut: false,
  hostNetwork: false,
  mirror: false,
  finished: false,
  terminating: false,
  createdAt: 1000,
  ...over,
});

t.test('the pod view reads labels, opt-outs, phase and the controlling owner', async (t) => {
  const v = toRolloutPodView({
    metadata: {
      name: 'web-1',
      namespace: 'shop',
      uid: 'u1',
      labels: { 'kubedlp.io/injected': 'true' },
      creationTimestamp: '2030-01-01T00:00:00Z',
      ownerReferences: [{ kind: 'Other', name: 'x' }, { kind: 'ReplicaSet', name: 'web-abc', controller: true } as never],
    } as never,
    spec: { hostNetwork: false },
    status: { phase: 'Running' },
  });
  t.same(v, {
    namespace: 'shop',
    name: 'web-1',
    uid: 'u1',
    injected: true,
    optedOut: false,
    hostNetwork: false,
    mirror: false,
    finished: false,
    terminating: false,
    createdAt: Date.parse('2030-01-01T00:00:00Z'),
    owner: { kind: 'ReplicaSet', name: 'web-abc' },
  });
  t.equal(toRolloutPodView({ metadata: { labels: { 'kubedlp.io/inject': 'disabled' } } }).optedOut, true);
  t.equal(toRolloutPodView({ status: { phase: 'Succeeded' } }).finished, true);
});

t.test('missing the sidecar: not injected, and none of the exemptions', async (t) => {
  t.ok(missesSidecar(view('a')));
  for (const exempt of ['injected', 'optedOut', 'hostNetwork', 'mirror', 'finished', 'terminating'] as const) {
    t.notOk(missesSidecar(view('a', { [exempt]: true })), exempt);
  }
  const byNs = podsMissingSidecar([view('b'), view('a'), view('c', { namespace: 'other' }), view('d', { injected: true })], (ns) => ns === 'shop');
  t.same([...byNs.keys()], ['shop'], 'only opted-in namespaces');
  t.same(byNs.get('shop')!.map((p) => p.name), ['a', 'b'], 'sorted by name');
});

t.test('orphaned after an opt-out: injected, still running, in a namespace that exists and no longer opts in', async (t) => {
  const pods = [
    view('b', { injected: true }),
    view('a', { injected: true }),
    view('plain'),
    view('done', { injected: true, finished: true }),
    view('going', { injected: true, terminating: true }),
    view('kept', { namespace: 'still-in', injected: true }),
    view('gone', { namespace: 'deleted', injected: true }),
  ];
  const byNs = podsOrphaned(pods, (ns) => ns === 'still-in', (ns) => ns !== 'deleted');
  t.same([...byNs.keys()], ['shop']);
  t.same(byNs.get('shop')!.map((p) => p.name), ['a', 'b']);
});

t.test('stranded by a deleted profile: injected, still running, in a namespace whose profile is missing', async (t) => {
  const pods = [
    view('b', { injected: true }),
    view('a', { injected: true }),
    view('plain'),
    view('done', { injected: true, finished: true }),
    view('going', { injected: true, terminating: true }),
    view('fine', { namespace: 'has-profile', injected: true }),
  ];
  const byNs = podsProfileMissing(pods, (ns) => ns === 'shop');
  t.same([...byNs.keys()], ['shop']);
  t.same(byNs.get('shop')!.map((p) => p.name), ['a', 'b'], 'pods without the sidecar are the missing-sidecar report, not this one');
});

t.test('grouping by the restartable owner; bare pods and Jobs are only reported', async (t) => {
  const { groups, unmanaged } = groupByOwner([
    view('web-1', { owner: { kind: 'ReplicaSet', name: 'web-abc' }, createdAt: 300 }),
    view('web-2', { owner: { kind: 'ReplicaSet', name: 'web-abc' }, createdAt: 200 }),
    view('db-0', { owner: { kind: 'StatefulSet', name: 'db' } }),
    view('agent', { owner: { kind: 'DaemonSet', name: 'agent' } }),
    view('batch', { owner: { kind: 'Job', name: 'batch' } }),
    view('bare'),
  ]);
  t.same(groups.map((g) => `${g.kind}/${g.name}:${g.pods.length}`), ['DaemonSet/agent:1', 'ReplicaSet/web-abc:2', 'StatefulSet/db:1']);
  t.equal(groups.find((g) => g.name === 'web-abc')!.oldestCreatedAt, 200);
  t.same(unmanaged.map((p) => p.name), ['batch', 'bare']);
});

t.test('a restart is needed until one was requested after the oldest such pod was created', async (t) => {
  const created = Date.parse('2030-01-01T10:00:00Z');
  t.ok(needsRestart(undefined, created));
  t.ok(needsRestart({ 'kubectl.kubernetes.io/restartedAt': '2030-01-01T09:00:00Z' }, created), 'an older restart does not count');
  t.notOk(needsRestart({ 'kubectl.kubernetes.io/restartedAt': '2030-01-01T10:05:00Z' }, created));
  t.ok(needsRestart({ 'kubectl.kubernetes.io/restartedAt': 'garbage' }, created));
});

t.test('rate limit: at most N per window per namespace', async (t) => {
  const l = new WindowRateLimiter(2, 60_000);
  t.ok(l.tryTake('shop', 0));
  t.ok(l.tryTake('shop', 1000));
  t.notOk(l.tryTake('shop', 2000));
  t.ok(l.tryTake('other', 2000), 'namespaces are independent');
  t.equal(l.nextSlot('shop', 2000), 60_000);
  t.ok(l.tryTake('shop', 60_000), 'the window slides');
  t.throws(() => new WindowRateLimiter(0));
});
