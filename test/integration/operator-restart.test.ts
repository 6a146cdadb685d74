// Level-based reconciliation survives a crash: the operator is SIGKILLed
// while it is still working through a batch of namespaces, the world changes
// while it is down (a namespace opts out, the profile changes, an owned
// ConfigMap is deleted by hand), and a new process converges to exactly what
// the caches say, with nothing carried over from the dead one.
import t from 'tap';
import { parseProfile } from '../../proxy/profile';
import { parseTenantDirectory } from '../../proxy/tenancy/directory';
import { CONFIG_MAPS, NAMESPACES, NETWORK_POLICIES } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { waitFor } from '../envtest';
import { annotateNamespace, applyProfile, clusterProfile, createNamespace, getOrUndefined, startOperator, startTestPlane, type TestPlane } from './operator-harness';

const OPERATOR_NS = 'kube-dlp-system';
const COUNT = 40;
let tp: TestPlane;
t.before(async () => {
  tp = await startTestPlane();
  await tp.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } });
});
t.teardown(async () => tp?.stop());

const data = (cm: KubeObject | undefined, key: string) => (cm?.data as Record<string, string> | undefined)?.[key];

t.test('SIGKILL mid-batch, changes while down, restart: converges', async (t) => {
  await applyProfile(tp.admin, clusterProfile('default', { mode: 'Monitor' }));
  const first = startOperator(tp.plane.kubeconfigPath, ['--namespace', OPERATOR_NS]);
  t.teardown(async () => {
    if (first.child.exitCode === null) await first.kill();
  });
  const names: string[] = [];
  for (let i = 0; i < COUNT; i++) names.push(await createNamespace(tp.admin, `crash-${i}`, { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': `t${i % 3}` }));
  // Kill as soon as the operator has rendered anything, i.e. while it is mid-batch.
  await waitFor(() => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', names[0]!), { what: 'the first rendering', timeoutMs: 60_000, intervalMs: 20 });
  t.equal(await first.kill(), 'SIGKILL');
  const renderedAtKill = (await tp.admin.list(CONFIG_MAPS, { labelSelector: 'app.kubernetes.io/managed-by=kube-dlp-operator' })).items.length;
  t.comment(`${renderedAtKill} of ${2 * COUNT} ConfigMaps written when killed`);

  // While the operator is down.
  const optedOut = names[1]!;
  await annotateNamespace(tp.admin, optedOut, { 'kubedlp.io/inject': null });
  await applyProfile(tp.admin, clusterProfile('default', { mode: 'Protect', tenancy: { networkPolicy: {} } }));
  await tp.admin.delete(CONFIG_MAPS, 'kube-dlp-tenants', names[0]!);
  const kept = names.filter((n) => n !== optedOut);

  const second = startOperator(tp.plane.kubeconfigPath, ['--namespace', OPERATOR_NS]);
  t.teardown(async () => {
    if (second.child.exitCode === null) await second.kill();
  });
  await waitFor(
    async () => {
      for (const ns of kept) {
        const profile = data(await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', ns), 'profile.yaml');
        if (!profile || parseProfile(profile).spec.mode !== 'Protect') return undefined;
        const tenants = data(await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-tenants', ns), 'tenants.yaml');
        if (!tenants) return undefined;
        const dir = parseTenantDirectory(tenants);
        // Its own tenant's namespaces, and no other tenant's.
        const tenantOf = (n: string) => `t${names.indexOf(n) % 3}`;
        if (dir.namespace(optedOut) !== undefined) return undefined;
        if (kept.some((k) => (dir.namespace(k)?.tenant === tenantOf(k)) !== (tenantOf(k) === tenantOf(ns)))) return undefined;
        if (!(await getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns))) return undefined;
      }
      return true;
    },
    { what: "every opted-in namespace on generation 2 with its tenant's directory", timeoutMs: 120_000, intervalMs: 500 },
  );
  const out = await tp.admin.get(NAMESPACES, optedOut);
  t.equal(out.metadata.labels?.['kubedlp.io/injection'], undefined, 'the namespace that opted out while the operator was down is cleaned up');
  t.equal(await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', optedOut), undefined);
  t.equal(await getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', optedOut), undefined);
  for (const [i, ns] of names.entries()) {
    if (ns === optedOut) continue;
    t.equal((await tp.admin.get(NAMESPACES, ns)).metadata.labels?.['kubedlp.io/tenant'], `t${i % 3}`);
  }
  t.equal(await second.stop(), 0);
});
