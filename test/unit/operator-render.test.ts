// Rendering: what the operator writes into each opted-in namespace.
import t from 'tap';
import { parse } from 'yaml';
import { readProfileDocument } from '../../proxy/profile/document';
import { parseTenantDirectory } from '../../proxy/tenancy/directory';
import { renderProfile } from '../../operator/decide/render-profile';
import { buildTenantDirectory, renderTenantDirectory } from '../../operator/decide/tenant-directory';
import {
  desiredNamespaceAnnotations,
  desiredNamespaceLabels,
  enforcementOf,
  desiredNetworkPolicy,
  networkPolicyIntentOf,
  desiredProfileConfigMap,
  desiredTenantsConfigMap,
} from '../../operator/decide/owned-objects';
import type { ProfileView } from '../../operator/model/views';

const spec = {
  mode: 'Protect',
  egress: { default: 'Allow', deny: [{ host: 'pastebin.com' }], allow: [] },
  detectors: { enable: ['pci'], custom: [{ id: 'order-id', pattern: 'ORD-[0-9]{8}', severity: 'high', action: 'block' }] },
};
const clusterProfile: ProfileView = { kind: 'ClusterSecurityProfile', name: 'default', uid: 'u1', generation: 7, spec };
const nsProfile: ProfileView = { ...clusterProfile, kind: 'SecurityProfile', namespace: 'shop', name: 'strict' };

t.test('the rendered profile is a RenderedProfile document the proxy reads', async (t) => {
  const text = renderProfile(clusterProfile, { namespace: 'shop', tenant: 'acme' });
  const doc = readProfileDocument(text, 'rendered');
  t.same(doc.issues, []);
  t.equal(doc.kind, 'RenderedProfile');
  t.equal(doc.name, 'default');
  t.equal(doc.namespace, undefined, 'a cluster profile has no namespace');
  t.equal(doc.tenant, 'acme');
  t.equal(doc.sourceVersion, '7', 'the generation: changes with the spec, not the status');
  t.same(doc.spec, spec);
  t.match(text, /^# Rendered by kube-dlp-operator from ClusterSecurityProfile default \(generation 7\)/);

  const namespaced = readProfileDocument(renderProfile(nsProfile, { namespace: 'shop', tenant: 'acme' }));
  t.equal(namespaced.namespace, 'shop');
  t.equal(namespaced.name, 'strict');
});

t.test('rendering is deterministic: key order of the stored spec does not matter', async (t) => {
  const reordered = { ...clusterProfile, spec: { detectors: spec.detectors, egress: { allow: [], deny: spec.egress.deny, default: 'Allow' }, mode: 'Protect', zzz: 1, aaa: 2 } };
  const a = renderProfile(clusterProfile, { namespace: 'shop', tenant: 'acme' });
  const b = renderProfile(reordered, { namespace: 'shop', tenant: 'acme' });
  const body = (s: string) => s.split('\n').filter((l) => !/zzz|aaa/.test(l)).join('\n');
  t.equal(body(b), a);
  t.ok(b.indexOf('\n  aaa: 2\n  zzz: 1\n') > b.indexOf('\n  egress:'), 'unknown keys sorted, after the known ones');
  t.ok(a.indexOf('mode:') < a.indexOf('detectors:') && a.indexOf('detectors:') < a.indexOf('egress:'), 'schema order');
});

t.test('profile ConfigMap: key profile.yaml, owned by the profile, labelled as managed', async (t) => {
  const cm = desiredProfileConfigMap('shop', 'text', clusterProfile);
  t.same(cm.metadata, {
    name: 'kube-dlp-profile',
    namespace: 'shop',
    labels: { 'app.kubernetes.io/managed-by': 'kube-dlp-operator', 'app.kubernetes.io/part-of': 'kube-dlp' },
    ownerReferences: [{ apiVersion: 'kubedlp.io/v1alpha1', kind: 'ClusterSecurityProfile', name: 'default', uid: 'u1', controller: true }],
  });
  t.same(cm.data, { 'profile.yaml': 'text' });
  const tenants = desiredTenantsConfigMap('shop', 'dir');
  t.equal(tenants.metadata.name, 'kube-dlp-tenants');
  t.same(tenants.data, { 'tenants.yaml': 'dir' });
  t.equal(tenants.metadata.ownerReferences, undefined);
});

t.test('NetworkPolicy: none unless the profile asks; no duplicate peer when the operator runs in kube-system', async (t) => {
  t.equal(desiredNetworkPolicy('shop', 'acme', 'kube-dlp-system', undefined), undefined);
  t.equal(desiredNetworkPolicy('shop', 'acme', 'kube-dlp-system', networkPolicyIntentOf({ tenancy: { networkPolicy: { ingress: false, egress: false } } })), undefined);
  const inKubeSystem = desiredNetworkPolicy('shop', 'acme', 'kube-system', networkPolicyIntentOf({ tenancy: { networkPolicy: {} } }))!;
  t.equal(((inKubeSystem.spec as { ingress: { from: unknown[] }[] }).ingress[0]!.from).length, 2, 'no duplicate peer');
});

t.test('namespace labels mirror the decision', async (t) => {
  t.same(desiredNamespaceLabels({ tenant: 'acme', exemptions: [] }), {
    'kubedlp.io/injection': 'enabled',
    'kubedlp.io/tenant': 'acme',
    'kubedlp.io/enforcement': 'protect',
  }, 'no profile resolved: protect (fail closed)');
  t.equal(desiredNamespaceLabels({ tenant: 'acme', mode: 'Monitor', exemptions: [] })['kubedlp.io/enforcement'], 'monitor');
  t.same(desiredNamespaceAnnotations({ tenant: 'acme', mode: 'Protect', exemptions: [{ name: 'debug', reason: 'SRE tools' }] }), {
    'exemption.kubedlp.io/debug': 'SRE tools',
  });
  t.same(enforcementOf({ mode: 'Protect', exemptions: [{ name: 'x', reason: 'y' }, { bogus: 1 }] }), {
    mode: 'Protect',
    exemptions: [{ name: 'x', reason: 'y' }],
  });
  t.same(enforcementOf(undefined), { mode: 'Monitor', exemptions: [] }, 'the schema default mode is Monitor');
  t.same(desiredNamespaceLabels(undefined), {});
});

const inputs = () => ({
  tenants: new Map([['web', 'acme'], ['shop', 'acme'], ['ops', 'globex']]),
  sharedNamespaces: ['kube-system'],
  services: [
    { namespace: 'shop', name: 'api', clusterIPs: ['10.0.0.12', 'fd00::12'] },
    { namespace: 'other', name: 'x', clusterIPs: ['10.0.0.99'] },
    { namespace: 'kube-system', name: 'kube-dns', clusterIPs: ['10.0.0.10'] },
  ],
  pods: [
    { namespace: 'web', name: 'web-1', ips: ['10.244.0.5'], injected: true },
    { namespace: 'other', name: 'o', ips: ['10.244.0.9'], injected: false },
  ],
  clusterNetworks: ['10.0.0.0/24'],
});

t.test("tenant directory: a namespace's copy lists its own tenant and the shared namespaces, nothing of another tenant", async (t) => {
  const dir = buildTenantDirectory(inputs(), { tenant: 'acme', sharedNamespaces: [] });
  t.same(dir.namespaces, [
    { name: 'kube-system', shared: true },
    { name: 'shop', tenant: 'acme' },
    { name: 'web', tenant: 'acme' },
  ]);
  t.same(dir.addresses.map((a) => `${a.kind} ${a.namespace}/${a.name} ${a.cidr}`), [
    'Service kube-system/kube-dns 10.0.0.10',
    'Service shop/api 10.0.0.12',
    'Service shop/api fd00::12',
    'Pod web/web-1 10.244.0.5',
  ]);
  t.same(dir.clusterNetworks, ['10.0.0.0/24', '10.244.0.9/32'], 'the unlisted Pod outside the Service range, as a bare host');
  const text = renderTenantDirectory(dir);
  t.notMatch(text.replace(/^#.*\n/gm, ''), /globex|ops|other|: x\b|: o\b/, 'no other tenant, namespace or object name');
  const loaded = parseTenantDirectory(text, 'tenants.yaml');
  t.equal(loaded.namespace('shop')?.tenant, 'acme');
  t.equal(loaded.namespace('kube-system')?.shared, true);
  t.equal(loaded.namespace('ops'), undefined, "another tenant's namespace: not listed");
  t.same(loaded.ownerOf('10.0.0.12'), { namespace: 'shop', entry: 'Service/api 10.0.0.12/32' });
  t.equal(loaded.ownerOf('10.0.0.99'), 'unknown', 'a Service of a namespace that is not opted in: in-cluster, no tenant');
  t.equal(loaded.ownerOf('10.244.0.9'), 'unknown', 'its Pod too');
  t.equal(loaded.ownerOf('192.0.2.1'), undefined, 'outside the cluster');
  t.equal(loaded.version, dir.version);

  const globex = parseTenantDirectory(renderTenantDirectory(buildTenantDirectory(inputs(), { tenant: 'globex', sharedNamespaces: [] })));
  t.equal(globex.namespace('ops')?.tenant, 'globex');
  t.equal(globex.namespace('web'), undefined);
  t.equal(globex.ownerOf('10.244.0.5'), 'unknown', "acme's Pod is only known to be in-cluster");
  t.equal(globex.ownerOf('10.0.0.12'), 'unknown', "acme's Service likewise (inside the Service range)");
});

t.test("tenant directory: the profile's shared namespaces are listed as shared, whoever owns them", async (t) => {
  const dir = buildTenantDirectory(inputs(), { tenant: 'globex', sharedNamespaces: ['other', 'shop', 'ops'] });
  t.same(dir.namespaces, [
    { name: 'kube-system', shared: true },
    { name: 'ops', tenant: 'globex' },
    { name: 'other', shared: true },
    { name: 'shop', shared: true },
  ], "own namespaces stay the tenant's; another tenant's shared namespace carries no tenant name");
  t.notMatch(renderTenantDirectory(dir), /acme/);
  const loaded = parseTenantDirectory(renderTenantDirectory(dir));
  t.same(loaded.ownerOf('10.0.0.99'), { namespace: 'other', entry: 'Service/x 10.0.0.99/32' });
  t.same(loaded.ownerOf('10.244.0.9'), { namespace: 'other', entry: 'Pod/o 10.244.0.9/32' });
  t.equal(loaded.ownerOf('10.244.0.5'), 'unknown');
});

const acme = { tenant: 'acme', sharedNamespaces: [] };

t.test('tenant directory: deterministic, and its version follows its content', async (t) => {
  const a = renderTenantDirectory(buildTenantDirectory(inputs(), acme));
  const shuffled = inputs();
  shuffled.tenants = new Map([...shuffled.tenants].reverse());
  shuffled.services.reverse();
  t.equal(renderTenantDirectory(buildTenantDirectory(shuffled, acme)), a);
  const moved = inputs();
  moved.tenants.set('ops', 'acme');
  const b = buildTenantDirectory(moved, acme);
  t.not(b.version, (parse(a) as { version: string }).version);
});
