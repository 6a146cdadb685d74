// Leader election on a real Lease: one winner per round, no takeover before
// the Lease expires, an immediate one after a release, stepping down when the
// Lease is taken; and with two operator processes, failover after the
// leader is SIGKILLed.
import t from 'tap';
import { KubeApiError, LeaderLostError, OperatorOptionsError } from '../../operator/errors';
import { LeaderElector } from '../../operator/kube/leader-election';
import { CONFIG_MAPS, LEASES, NAMESPACES } from '../../operator/kube/resources';
import { waitFor } from '../envtest';
import {
  applyProfile,
  clusterProfile,
  createNamespace,
  getOrUndefined,
  metricsText,
  sample,
  startOperator,
  startTestPlane,
  type OperatorProcess,
  type TestPlane,
} from './operator-harness';

const NS = 'kube-dlp-system';
let tp: TestPlane;
t.before(async () => {
  tp = await startTestPlane();
  await tp.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
});
t.teardown(async () => tp?.stop());

interface LeaseSpec {
  holderIdentity: string;
  renewTime: string;
  acquireTime: string;
  leaseDurationSeconds: number;
  leaseTransitions: number;
}
const leaseSpec = async (name: string) => (await tp.admin.get(LEASES, name, NS)).spec as LeaseSpec;
const ms = (microTime: string) => Date.parse(microTime);

function elector(name: string, identity: string, leaseDurationMs = 3000) {
  return new LeaderElector(tp.admin, { namespace: NS, name, identity, leaseDurationMs, renewDeadlineMs: 2000, retryPeriodMs: 250 });
}

t.test('options are validated with the reason', async (t) => {
  t.throws(() => new LeaderElector(tp.admin, { namespace: NS, name: 'x', identity: 'a', leaseDurationMs: 2000, renewDeadlineMs: 2000 }), OperatorOptionsError);
  t.throws(() => new LeaderElector(tp.admin, { namespace: NS, name: 'x', identity: 'a', renewDeadlineMs: 1000, retryPeriodMs: 1000 }), /renew deadline/);
  t.throws(() => new LeaderElector(tp.admin, { namespace: NS, name: 'x', identity: '' }), /identity/);
});

t.test('candidates racing for a new Lease: exactly one wins each round', async (t) => {
  for (let round = 0; round < 5; round++) {
    const name = `race-${round}`;
    const candidates = ['a', 'b', 'c'].map((id) => elector(name, id));
    const stop = new AbortController();
    const won = await Promise.race(candidates.map((c, i) => c.acquire(stop.signal).then(() => i)));
    // Let the others keep campaigning for a few rounds: none may win while the leader renews.
    await waitFor(async () => candidates.every((c) => c.observedHolder === candidates[won]!.observedHolder), { what: 'all to observe the leader' });
    t.same(candidates.map((c) => c.isLeader), candidates.map((_, i) => i === won), `round ${round}`);
    stop.abort();
  }
});

t.test('a candidate takes over only after the Lease expired; never while it is renewed', async (t) => {
  const a = elector('expiry', 'a');
  const b = elector('expiry', 'b');
  const stopA = new AbortController();
  const stopB = new AbortController();
  t.teardown(() => stopB.abort());
  await a.acquire(stopA.signal);
  const bElected = b.acquire(stopB.signal);
  // Several renewals of a pass while b campaigns.
  const firstRenew = ms((await leaseSpec('expiry')).renewTime);
  await waitFor(async () => ms((await leaseSpec('expiry')).renewTime) > firstRenew + 1000 || undefined, { what: 'a to renew' });
  t.equal((await leaseSpec('expiry')).holderIdentity, 'a', 'still a while it renews');
  t.notOk(b.isLeader);
  const lastRenewOfA = ms((await leaseSpec('expiry')).renewTime);
  stopA.abort(); // a stops renewing, without releasing (as if killed)
  await bElected;
  const spec = await leaseSpec('expiry');
  t.equal(spec.holderIdentity, 'b');
  t.equal(spec.leaseTransitions, 1);
  t.ok(ms(spec.acquireTime) >= lastRenewOfA + 3000 - 300, 'b acquired no earlier than one lease duration after the last renewal it could have seen (300 ms: the one renewal in flight at the abort)');
});

t.test('release hands over at once; the successor does not wait for expiry', async (t) => {
  const a = elector('release', 'a', 30_000);
  const b = elector('release', 'b', 30_000);
  const stopA = new AbortController();
  const stopB = new AbortController();
  t.teardown(() => {
    stopA.abort();
    stopB.abort();
  });
  await a.acquire(stopA.signal);
  const renewedAt = ms((await leaseSpec('release')).renewTime);
  const bElected = b.acquire(stopB.signal);
  await waitFor(async () => b.observedHolder === 'a' || undefined, { what: 'b to observe a' });
  stopA.abort();
  await a.release();
  await bElected;
  const spec = await leaseSpec('release');
  t.equal(spec.holderIdentity, 'b');
  t.ok(ms(spec.acquireTime) < renewedAt + 30_000, 'taken over before the 30 s lease could have expired');
  t.notOk(a.isLeader);
});

t.test('a leader whose Lease is taken steps down', async (t) => {
  const a = elector('taken', 'a', 10_000);
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  await a.acquire(stop.signal);
  const lost = new Promise<LeaderLostError>((resolve) => a.on('stopped-leading', resolve));
  const lease = await tp.admin.get(LEASES, 'taken', NS);
  const now = new Date().toISOString().replace('Z', '000Z');
  await tp.admin.replace(LEASES, { ...lease, spec: { ...(lease.spec as object), holderIdentity: 'intruder', renewTime: now } }).catch((err) => {
    // A renewal of a's may have slipped in: retry on the fresh version.
    if (!(err instanceof KubeApiError && err.conflict)) throw err;
    return tp.admin.get(LEASES, 'taken', NS).then((l) => tp.admin.replace(LEASES, { ...l, spec: { ...(l.spec as object), holderIdentity: 'intruder', renewTime: now } }));
  });
  const err = await lost;
  t.match(err.message, /lease taken by intruder/);
  t.notOk(a.isLeader);
});

t.test('two operator replicas: one leads; SIGKILL it and the other takes over after expiry', async (t) => {
  await applyProfile(tp.admin, clusterProfile('default', { mode: 'Monitor' }));
  const flags = ['--namespace', NS, '--leader-elect', '--lease-name', 'operator', '--lease-duration', '3s', '--renew-deadline', '2s', '--retry-period', '500ms'];
  const replicas: Record<string, OperatorProcess> = {
    one: startOperator(tp.plane.kubeconfigPath, [...flags, '--identity', 'one']),
    two: startOperator(tp.plane.kubeconfigPath, [...flags, '--identity', 'two']),
  };
  t.teardown(async () => {
    for (const r of Object.values(replicas)) if (r.child.exitCode === null) await r.kill();
  });
  const leader = await waitFor(async () => (await getOrUndefined(tp.admin, LEASES, 'operator', NS))?.spec as LeaseSpec | undefined, { what: 'a leader', timeoutMs: 60_000 });
  const first = leader.holderIdentity as 'one' | 'two';
  const second = first === 'one' ? 'two' : 'one';
  const leaderGauge = async (id: string) => sample(await metricsText(replicas[id]!), 'kubedlp_operator_leader');
  await waitFor(async () => (await leaderGauge(first)) === 1, { what: 'the leader gauge', timeoutMs: 30_000 });
  const standbyReadyz = `${await replicas[second]!.adminUrl()}/readyz`;
  await waitFor(async () => (await fetch(standbyReadyz)).status === 200, { what: 'the standby to be ready (to take over)', timeoutMs: 30_000 });
  t.equal(await leaderGauge(second), 0, 'the ready standby does not lead');

  const before = await createNamespace(tp.admin, 'failover-before', { 'kubedlp.io/inject': 'enabled' });
  await waitFor(() => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', before), { what: 'the leader to reconcile', timeoutMs: 60_000 });
  t.notMatch(replicas[second]!.logs(), /reconciled namespace/, 'the standby wrote nothing');

  await replicas[first]!.kill();
  const after = await createNamespace(tp.admin, 'failover-after', { 'kubedlp.io/inject': 'enabled' });
  await waitFor(() => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', after), { what: 'the new leader to reconcile', timeoutMs: 60_000 });
  const spec = await leaseSpec('operator');
  t.equal(spec.holderIdentity, second);
  t.equal(spec.leaseTransitions, 1);
  t.equal(await leaderGauge(second), 1);

  // Graceful shutdown of the new leader releases the Lease.
  t.equal(await replicas[second]!.stop(), 0);
  t.equal((await leaseSpec('operator')).holderIdentity, '', 'released on SIGTERM');
});
