// The operator as a process against a real API server: opting in, rendering,
// profile changes, bad profiles, the tenant directory, NetworkPolicies,
// opting out, status and metrics. Each test waits for the state it expects
// (the operator is eventually consistent); none waits a fixed time.
import t from 'tap';
import { parseProfile } from '../../proxy/profile';
import { parseTenantDirectory } from '../../proxy/tenancy/directory';
import { METRIC_NAMES } from '../../operator/metrics/operator-metrics';
import { CLUSTER_SECURITY_PROFILES, CONFIG_MAPS, EVENTS, NAMESPACES, NETWORK_POLICIES, PODS, SECURITY_PROFILES, SERVICES } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { waitFor } from '../envtest';
import {
  annotateNamespace,
  applyProfile,
  clusterProfile,
  createNamespace,
  getOrUndefined,
  metricsText,
  sample,
  securityProfile,
  startOperator,
  startTestPlane,
  type OperatorProcess,
  type TestPlane,
} from './operator-harness';

let tp: TestPlane;
let op: OperatorProcess;
const OPERATOR_NS = 'kube-dlp-system';

t.before(async () => {
  tp = await startTestPlane();
  await tp.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } });
  // Asks for the ingress half of the tenant NetworkPolicy (rendered only where a profile asks).
  await applyProfile(tp.admin, clusterProfile('default', { mode: 'Monitor', tenancy: { networkPolicy: { egress: false } } }));
  op = startOperator(tp.plane.kubeconfigPath, ['--namespace', OPERATOR_NS]);
});
t.teardown(async () => {
  if (op && op.child.exitCode === null) await op.kill();
  await tp?.stop();
});
t.afterEach(async (t) => {
  if (t.passing()) return;
  t.comment(op.logs().split('\n').slice(-40).join('\n'));
});

const data = (cm: KubeObject | undefined, key: string): string | undefined => (cm?.data as Record<string, string> | undefined)?.[key];
const wait = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitFor(fn, { what, timeoutMs: 60_000, intervalMs: 100 });

async function renderedProfile(ns: string): Promise<string | undefined> {
  return data(await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', ns), 'profile.yaml');
}
async function tenantsYaml(ns: string): Promise<string | undefined> {
  return data(await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-tenants', ns), 'tenants.yaml');
}
async function labels(ns: string): Promise<Record<string, string>> {
  return (await tp.admin.get(NAMESPACES, ns)).metadata.labels ?? {};
}
async function profileStatus(kind: 'ClusterSecurityProfile' | 'SecurityProfile', name: string, ns?: string) {
  const obj = await tp.admin.get(kind === 'SecurityProfile' ? SECURITY_PROFILES : CLUSTER_SECURITY_PROFILES, name, ns);
  return obj.status as { observedGeneration?: number; namespaces?: number; injectedPods?: number; detectors?: number; conditions?: { type: string; status: string; reason: string; message: string }[] } | undefined;
}
/** Events about a Namespace are filed in it; about other cluster-scoped objects, in "default". */
async function eventAbout(kind: string, name: string, reason: string, namespace = kind === 'Namespace' ? name : 'default'): Promise<KubeObject | undefined> {
  const list = await tp.admin.list<KubeObject>(EVENTS, { namespace });
  return list.items.find((e) => e.reason === reason && (e.regarding as { kind: string; name: string }).kind === kind && (e.regarding as { name: string }).name === name);
}
const condition = (s: Awaited<ReturnType<typeof profileStatus>>, type: string) => s?.conditions?.find((c) => c.type === type);

t.test('opting a namespace in labels it and renders its ConfigMaps and NetworkPolicy', async (t) => {
  const ns = await createNamespace(tp.admin, 'optin', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  const profileText = await wait('the rendered profile', () => renderedProfile(ns));
  // Which profile the namespace got, and why, where its team looks.
  const status = await wait('the profile status', async () => (await tp.admin.get<KubeObject>(NAMESPACES, ns)).metadata.annotations?.['kubedlp.io/profile-status']);
  t.equal(status, 'rendered: ClusterSecurityProfile default (no kubedlp.io/profile annotation: the default)');
  const selected = await wait('a ProfileSelected event in the namespace', () => eventAbout('Namespace', ns, 'ProfileSelected'));
  t.equal(selected.note, status);
  const cfg = parseProfile(profileText, 'profile.yaml');
  t.equal(cfg.kind, 'RenderedProfile', 'the sidecar loads what the operator wrote');
  t.equal(cfg.profileName, 'default');
  t.equal(cfg.tenant, 'acme');
  t.equal(cfg.spec.mode, 'Monitor');

  t.same(await wait('labels', async () => ((await labels(ns))['kubedlp.io/tenant'] ? labels(ns) : undefined)), {
    'kubernetes.io/metadata.name': ns,
    'kubedlp.io/injection': 'enabled',
    'kubedlp.io/tenant': 'acme',
    'kubedlp.io/enforcement': 'monitor',
  });

  const dir = parseTenantDirectory(await wait('the tenant directory', async () => {
    const text = await tenantsYaml(ns);
    return text && parseTenantDirectory(text).namespace(ns) ? text : undefined;
  }));
  t.equal(dir.namespace(ns)?.tenant, 'acme');
  t.equal(dir.namespace('kube-system')?.shared, true);
  t.equal(dir.ownerOf('10.0.0.1') !== undefined, true, 'the service CIDR (read from ServiceCIDR objects) is in-cluster');

  const np = await wait('the NetworkPolicy', () => getOrUndefined<KubeObject>(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns));
  t.same((np.spec as { ingress: unknown[] }).ingress, [
    {
      from: [
        { namespaceSelector: { matchLabels: { 'kubedlp.io/tenant': 'acme' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OPERATOR_NS } } },
      ],
    },
  ]);
  const cm = await tp.admin.get(CONFIG_MAPS, 'kube-dlp-profile', ns);
  const managers = (cm.metadata.managedFields as { manager: string; operation: string }[]).map((m) => `${m.manager}/${m.operation}`);
  t.same(managers, ['kube-dlp-operator/Apply'], 'written by server-side apply with the operator field manager');
  t.equal(cm.metadata.ownerReferences?.[0]?.kind, 'ClusterSecurityProfile');
});

t.test('a namespace without the annotation, or in the system namespaces, is left alone', async (t) => {
  const plain = await createNamespace(tp.admin, 'plain');
  const marker = await createNamespace(tp.admin, 'marker', { 'kubedlp.io/inject': 'enabled' });
  await wait('a later namespace to be rendered', () => renderedProfile(marker));
  t.equal(await renderedProfile(plain), undefined);
  t.equal((await labels(plain))['kubedlp.io/injection'], undefined);
  await annotateNamespace(tp.admin, 'kube-system', { 'kubedlp.io/inject': 'enabled' });
  await annotateNamespace(tp.admin, marker, { 'kubedlp.io/tenant': 'after-kube-system' });
  await wait('the marker to be re-rendered', async () => (await renderedProfile(marker))?.includes('tenant: after-kube-system'));
  t.equal(await renderedProfile('kube-system'), undefined, 'kube-system never opts in');
  await annotateNamespace(tp.admin, 'kube-system', { 'kubedlp.io/inject': null });
});

t.test('a profile change updates the ConfigMap; a SecurityProfile in the namespace shadows the cluster default', async (t) => {
  const ns = await createNamespace(tp.admin, 'change', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'strict' });
  await applyProfile(tp.admin, clusterProfile('strict', { mode: 'Protect', detectors: { enable: ['pci'] } }));
  await wait('strict rendered', async () => (await renderedProfile(ns))?.includes('mode: Protect'));
  await applyProfile(tp.admin, clusterProfile('strict', { mode: 'Protect', detectors: { enable: ['pci', 'secret'] } }));
  const updated = await wait('the new generation rendered', async () => {
    const text = await renderedProfile(ns);
    return text?.includes('version: "2"') ? text : undefined;
  });
  t.same(parseProfile(updated).spec.detectors.enable, ['pci', 'secret']);

  await applyProfile(tp.admin, securityProfile(ns, 'strict', { mode: 'Monitor' }));
  const local = await wait('the local profile rendered', async () => {
    const text = await renderedProfile(ns);
    return text && parseProfile(text).namespace === ns ? text : undefined;
  });
  t.equal(parseProfile(local).spec.mode, 'Monitor');
  const cm = await tp.admin.get(CONFIG_MAPS, 'kube-dlp-profile', ns);
  t.equal(cm.metadata.ownerReferences?.[0]?.kind, 'SecurityProfile', 'owned by the profile it was rendered from');
  await wait('the local profile status', async () => condition(await profileStatus('SecurityProfile', 'strict', ns), 'Ready')?.status === 'True');
  t.equal((await profileStatus('SecurityProfile', 'strict', ns))?.namespaces, 1);
});

t.test('a custom pattern that cannot compile: DetectorsCompiled=False naming it, Event, last good rendering kept', async (t) => {
  const ns = await createNamespace(tp.admin, 'badregex', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'regex' });
  await applyProfile(tp.admin, securityProfile(ns, 'regex', { detectors: { custom: [{ id: 'order', pattern: 'ORD-[0-9]{8}' }] } }));
  const good = await wait('the good rendering', () => renderedProfile(ns));
  await applyProfile(tp.admin, securityProfile(ns, 'regex', { detectors: { custom: [{ id: 'order', pattern: 'ORD-[0-9]{8}' }, { id: 'broken', pattern: 'abc(' }] } }));
  const status = await wait('DetectorsCompiled=False', async () => {
    const s = await profileStatus('SecurityProfile', 'regex', ns);
    return s?.observedGeneration === 2 && condition(s, 'DetectorsCompiled')?.status === 'False' ? s : undefined;
  });
  const compiled = condition(status, 'DetectorsCompiled')!;
  t.equal(compiled.reason, 'DetectorCompileFailed');
  t.match(compiled.message, /spec\.detectors\.custom\[1\]\.pattern: detector "custom\.broken"/);
  t.equal(condition(status, 'Ready')?.status, 'False');
  t.equal(status.detectors, undefined, 'no detector count for a profile that does not compile');
  const events = await wait('a Warning event on the profile', async () => {
    const list = await tp.admin.list<KubeObject>(EVENTS, { namespace: ns });
    const hit = list.items.filter((e) => e.reason === 'DetectorCompileFailed' && (e.regarding as { name: string }).name === 'regex');
    return hit.length > 0 ? hit : undefined;
  });
  t.equal(events[0]!.type, 'Warning');
  t.match(events[0]!.note as string, /custom\.broken/);
  t.equal(await renderedProfile(ns), good, 'the ConfigMap still holds the last good rendering');

  await applyProfile(tp.admin, securityProfile(ns, 'regex', { detectors: { custom: [{ id: 'order', pattern: 'ORD-[0-9]{8}' }, { id: 'fixed', pattern: 'abc[0-9]{2}' }] } }));
  const fixed = await wait('the fixed profile rendered', async () => ((await renderedProfile(ns))?.includes('fixed') ? renderedProfile(ns) : undefined));
  t.match(fixed!, /version: "3"/);
  await wait('Ready again', async () => condition(await profileStatus('SecurityProfile', 'regex', ns), 'Ready')?.status === 'True');
});

t.test("a new Service and a Pod IP update each namespace's copy: named for its tenant, only in-cluster for another", async (t) => {
  const a = await createNamespace(tp.admin, 'dir-a', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  const a2 = await createNamespace(tp.admin, 'dir-a2', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  const b = await createNamespace(tp.admin, 'dir-b', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'globex' });
  await wait('b rendered', () => tenantsYaml(b));
  const svc = await tp.admin.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: a }, spec: { ports: [{ port: 80 }] } }, a);
  const ip = (svc.spec as { clusterIP: string }).clusterIP;
  const ownerIn = async (ns: string, address: string) => {
    const text = await tenantsYaml(ns);
    return text ? parseTenantDirectory(text).ownerOf(address) : undefined;
  };
  const dir = await wait("the Service in a2's copy", async () => {
    const text = await tenantsYaml(a2);
    const d = text ? parseTenantDirectory(text) : undefined;
    return d && d.ownerOf(ip) !== 'unknown' && d.ownerOf(ip) !== undefined ? d : undefined;
  });
  t.same(dir.ownerOf(ip), { namespace: a, entry: `Service/api ${ip}/32` });
  t.equal(dir.namespace(a)?.tenant, 'acme');

  await tp.admin.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: a, labels: { 'kubedlp.io/injected': 'true' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, a);
  await tp.admin.mergePatch(PODS, 'web', a, { status: { podIP: '10.244.7.9', podIPs: [{ ip: '10.244.7.9' }] } }, 'status');
  await wait("the Pod IP in a2's copy", async () => ((await ownerIn(a2, '10.244.7.9')) as { namespace?: string } | undefined)?.namespace === a);
  await wait("the Pod IP in b's copy, as in-cluster only", async () => (await ownerIn(b, '10.244.7.9')) === 'unknown');
  const other = (await tenantsYaml(b))!;
  t.equal(parseTenantDirectory(other).ownerOf(ip), 'unknown', "acme's Service is in-cluster for globex, owner unnamed");
  t.notMatch(other.replace(/^#.*\n/gm, ''), /acme|dir-a/, "globex's copy names nothing of acme");
  await wait('the injected pod counted on the default profile', async () => ((await profileStatus('ClusterSecurityProfile', 'default'))?.injectedPods ?? 0) >= 1);
});

t.test('a namespace labelled kubedlp.io/shared=true is shared infrastructure in every copy (the default selector)', async (t) => {
  const a = await createNamespace(tp.admin, 'shared-user', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  const db = await createNamespace(tp.admin, 'shared-db');
  const svc = await tp.admin.create(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'postgres', namespace: db }, spec: { ports: [{ port: 5432 }] } }, db);
  const ip = (svc.spec as { clusterIP: string }).clusterIP;
  const copy = async () => {
    const text = await tenantsYaml(a);
    return text ? parseTenantDirectory(text) : undefined;
  };
  await wait('the copy', copy);
  t.equal((await copy())!.ownerOf(ip), 'unknown', 'not shared yet: in-cluster, no tenant (denied under denyCrossTenant)');
  await tp.admin.mergePatch(NAMESPACES, db, undefined, { metadata: { labels: { 'kubedlp.io/shared': 'true' } } });
  const shared = await wait('the labelled namespace listed as shared', async () => ((await copy())?.namespace(db)?.shared ? copy() : undefined));
  t.same(shared!.ownerOf(ip), { namespace: db, entry: `Service/postgres ${ip}/32` });
  await tp.admin.mergePatch(NAMESPACES, db, undefined, { metadata: { labels: { 'kubedlp.io/shared': null } } });
  await wait('the label removed: no longer listed', async () => (await copy())?.namespace(db) === undefined);
});

t.test('NetworkPolicies and labels follow the tenant', async (t) => {
  const ns = await createNamespace(tp.admin, 'tenant-move', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  await wait('first policy', () => getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns));
  await annotateNamespace(tp.admin, ns, { 'kubedlp.io/tenant': 'globex' });
  const np = await wait('the policy to select globex', async () => {
    const p = await getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns);
    return JSON.stringify(p?.spec).includes('"globex"') ? p : undefined;
  });
  t.notMatch(JSON.stringify(np.spec), /acme/);
  await wait('the tenant label', async () => (await labels(ns))['kubedlp.io/tenant'] === 'globex');
  await wait('the rendered tenant', async () => (await renderedProfile(ns))?.includes('tenant: globex'));
});

t.test('invalid annotations change nothing and are reported; a stray tenant label is removed', async (t) => {
  const ns = await createNamespace(tp.admin, 'invalid', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme' });
  const before = await wait('rendered', () => renderedProfile(ns));
  await annotateNamespace(tp.admin, ns, { 'kubedlp.io/tenant': 'not a label!' });
  const event = await wait('an InvalidAnnotations event', () => eventAbout('Namespace', ns, 'InvalidAnnotations'));
  t.match(event.note as string, /kubedlp\.io\/tenant must be a valid label value/);
  t.equal(await renderedProfile(ns), before, 'nothing changed');
  t.equal((await labels(ns))['kubedlp.io/tenant'], 'acme');

  const stray = await createNamespace(tp.admin, 'stray');
  await tp.admin.mergePatch(NAMESPACES, stray, undefined, { metadata: { labels: { 'kubedlp.io/tenant': 'acme' } } });
  await wait('the self-granted tenant label to be removed', async () => (await labels(stray))['kubedlp.io/tenant'] === undefined);
});

t.test("the profile's mode and exemptions are mirrored onto the namespace for the admission checks; self-granted exemptions are removed", async (t) => {
  const ns = await createNamespace(tp.admin, 'exempt', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'strict' });
  await applyProfile(tp.admin, clusterProfile('strict', { mode: 'Protect', exemptions: [{ name: 'debug', reason: 'SRE tools' }] }));
  const annotations = async () => ((await tp.admin.get<KubeObject>(NAMESPACES, ns)).metadata.annotations ?? {}) as Record<string, string>;
  await wait('protect and the exemption', async () => (await labels(ns))['kubedlp.io/enforcement'] === 'protect' && (await annotations())['exemption.kubedlp.io/debug'] === 'SRE tools');

  await tp.admin.mergePatch(NAMESPACES, ns, undefined, { metadata: { annotations: { 'exemption.kubedlp.io/self-granted': 'mine' } } });
  await wait('the self-granted exemption to be removed', async () => (await annotations())['exemption.kubedlp.io/self-granted'] === undefined);
  t.equal((await annotations())['exemption.kubedlp.io/debug'], 'SRE tools', 'the granted one stays');

  await applyProfile(tp.admin, clusterProfile('strict', { mode: 'Monitor' }));
  await wait('monitor, and the exemption withdrawn', async () => (await labels(ns))['kubedlp.io/enforcement'] === 'monitor' && (await annotations())['exemption.kubedlp.io/debug'] === undefined);
  await tp.admin.delete(CLUSTER_SECURITY_PROFILES, 'strict');
  await wait('no profile: protect (fail closed)', async () => (await labels(ns))['kubedlp.io/enforcement'] === 'protect');
});

t.test('opting out, or losing the profile, cleans up', async (t) => {
  const ns = await createNamespace(tp.admin, 'optout', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'temp' });
  await applyProfile(tp.admin, clusterProfile('temp', { mode: 'Monitor' }));
  await wait('rendered', () => renderedProfile(ns));
  await tp.admin.delete(CLUSTER_SECURITY_PROFILES, 'temp');
  await wait('the rendering removed with its profile', async () => (await renderedProfile(ns)) === undefined);
  await wait('a ProfileNotFound event', () => eventAbout('Namespace', ns, 'ProfileNotFound'));
  await wait('the namespace marked as missing its profile', async () =>
    (await tp.admin.get<KubeObject>(NAMESPACES, ns)).metadata.annotations?.['kubedlp.io/profile-status'] === 'missing: profile "temp" not found');
  t.ok(await tenantsYaml(ns), 'still opted in: the directory and the policy stay');

  await annotateNamespace(tp.admin, ns, { 'kubedlp.io/inject': null });
  await wait('everything removed', async () => {
    const l = await labels(ns);
    return (
      l['kubedlp.io/injection'] === undefined &&
      l['kubedlp.io/tenant'] === undefined &&
      l['kubedlp.io/enforcement'] === undefined &&
      (await tenantsYaml(ns)) === undefined &&
      (await getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns)) === undefined
    );
  });
  t.pass('labels, ConfigMaps and NetworkPolicy gone');
});

t.test('profile status counts the namespaces that select it; metrics and readiness', async (t) => {
  const status = await wait('the default profile counted', async () => {
    const s = await profileStatus('ClusterSecurityProfile', 'default');
    return s && (s.namespaces ?? 0) >= 4 && condition(s, 'Ready')?.status === 'True' ? s : undefined;
  });
  t.equal(condition(status, 'DetectorsCompiled')?.reason, 'Compiled');
  t.ok((status.detectors ?? 0) > 10);
  const text = await metricsText(op);
  for (const name of METRIC_NAMES) t.match(text, new RegExp(`^# HELP ${name} `, 'm'), name);
  t.ok((sample(text, 'kubedlp_operator_managed_namespaces') ?? 0) >= 4);
  t.equal(sample(text, 'kubedlp_operator_leader'), 1, 'no leader election: always leading');
  t.equal(sample(text, 'kubedlp_operator_rendered_profile_info{kind="ClusterSecurityProfile",namespace="",name="default",version="1"}'), 1);
  t.ok((sample(text, 'kubedlp_operator_reconciles_total{controller="namespace",result="success"}') ?? 0) > 0);
  const admin = await op.adminUrl();
  t.equal((await fetch(`${admin}/readyz`)).status, 200);
  t.equal((await fetch(`${admin}/healthz`)).status, 200);
});

t.test('SIGTERM stops the operator cleanly', async (t) => {
  t.equal(await op.stop(), 0, 'exit code 0');
  t.match(op.logs(), /"msg":"operator stopped"/);
});
