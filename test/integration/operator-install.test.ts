// config/default on a real API server: every manifest passes a server-side
// dry run; then, installed for real, the operator runs as its own service
// account (a token minted with the TokenRequest API, as a pod would get) with
// exactly the generated roles, and does all of its work without a single
// 403. With one verb taken away it refuses to start and names it.
import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

import { objectPath, collectionPath, type ResourceType, CONFIG_MAPS, NAMESPACES, NETWORK_POLICIES, LEASES, EVENTS, SECRETS } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { waitFor } from '../envtest';
import { kustomizeBuild } from './operator-manifests';
import { applyProfile, clusterProfile, createNamespace, getOrUndefined, ROOT, securityProfile, startOperator, startTestPlane, type TestPlane } from './operator-harness';

const NS = 'kube-dlp-system';
let tp: TestPlane;
t.before(async () => {
  tp = await startTestPlane();
});
t.teardown(async () => tp?.stop());

/** Resource names of the kinds config/default uses. */
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  CustomResourceDefinition: 'customresourcedefinitions',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Deployment: 'deployments',
  PodDisruptionBudget: 'poddisruptionbudgets',
  Service: 'services',
  NetworkPolicy: 'networkpolicies',
  MutatingWebhookConfiguration: 'mutatingwebhookconfigurations',
};

function pathOf(o: KubeObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`add ${o.kind} to PLURALS`);
  const r: ResourceType = { group: group!, version: version!, plural, kind: o.kind, namespaced: o.metadata.namespace !== undefined };
  return objectPath(r, o.metadata.name, o.metadata.namespace);
}

function apply(o: KubeObject, dryRun: boolean): Promise<unknown> {
  return tp.admin.request('PATCH', pathOf(o), {
    body: o,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: 'kube-dlp-install', force: true, dryRun: dryRun ? 'All' : undefined },
  });
}

const manifests = kustomizeBuild(join(ROOT, 'config', 'default'));
const namespaceFirst = [...manifests].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));

t.test('every manifest of config/default passes a server-side dry run', async (t) => {
  // Objects in kube-dlp-system are admitted only once the namespace exists.
  await apply(namespaceFirst[0]!, false);
  for (const o of namespaceFirst) {
    await t.resolves(apply(o, true), `${o.kind}/${o.metadata.name}`);
  }
  t.equal(await getOrUndefined(tp.admin, { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true }, 'kube-dlp-operator', NS), undefined, 'a dry run creates nothing');
});

/** A kubeconfig holding a fresh token of the service account, as the operator's pod would mount. */
async function serviceAccountKubeconfig(name: string): Promise<string> {
  const review = await tp.admin.request<{ status: { token: string } }>('POST', `${objectPath({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, name, NS)}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-sa-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'envtest', cluster: { server: tp.plane.server, 'certificate-authority-data': Buffer.from(tp.plane.caPem).toString('base64') } }],
      users: [{ name: name, user: { token: review.status.token } }],
      contexts: [{ name: 'sa', context: { cluster: 'envtest', user: name, namespace: NS } }],
      'current-context': 'sa',
    }),
    { mode: 0o600 },
  );
  return path;
}

t.test('installed for real, the operator works as its service account with exactly the generated roles', async (t) => {
  for (const o of namespaceFirst) await apply(o, false);
  await applyProfile(tp.admin, clusterProfile('default', { mode: 'Monitor' }));
  const kubeconfig = await serviceAccountKubeconfig('kube-dlp-operator');
  const op = startOperator(kubeconfig, ['--leader-elect', '--lease-duration', '4s', '--renew-deadline', '3s', '--retry-period', '1s']);
  t.teardown(async () => {
    if (op.child.exitCode === null) await op.kill();
  });
  const wait = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitFor(fn, { what, timeoutMs: 60_000 });

  const ns = await createNamespace(tp.admin, 'rbac', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'bad' });
  // Every permission in use: list/watch (informers), create+patch (apply), patch status, create events, the Lease.
  await applyProfile(tp.admin, securityProfile(ns, 'bad', { detectors: { custom: [{ id: 'broken', pattern: 'x(' }] }, tenancy: { networkPolicy: {} } }));
  await wait('tenants ConfigMap', () => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-tenants', ns));
  await wait('NetworkPolicy', () => getOrUndefined(tp.admin, NETWORK_POLICIES, 'kube-dlp-tenant-isolation', ns));
  await wait('labels', async () => (await tp.admin.get(NAMESPACES, ns)).metadata.labels?.['kubedlp.io/injection'] === 'enabled');
  await wait('status written', async () => ((await tp.admin.get({ group: 'kubedlp.io', version: 'v1alpha1', plural: 'securityprofiles', kind: 'SecurityProfile', namespaced: true }, 'bad', ns)).status as { observedGeneration?: number } | undefined)?.observedGeneration === 1);
  await wait('an event', async () => (await tp.admin.list<KubeObject>(EVENTS, { namespace: ns })).items.length > 0);
  const lease = await tp.admin.get(LEASES, 'kube-dlp-operator', NS);
  t.match((lease.spec as { holderIdentity: string }).holderIdentity, /_\d+$/);
  // TLS interception: the tenant CA in the operator's namespace, its copy in
  // the tenant namespace (the only Secret name the ClusterRole can read or
  // change), and both removed again: the narrowed Secret rules suffice.
  const tls = await createNamespace(tp.admin, 'rbac-tls', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'intercepting' });
  await applyProfile(tp.admin, securityProfile(tls, 'intercepting', { mode: 'Protect', tls: { intercept: 'Enabled' } }));
  await wait('the intercept CA copy', () => getOrUndefined(tp.admin, SECRETS, 'kube-dlp-intercept-ca', tls));
  await wait('the trust bundle', () => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-trust-bundle', tls));
  await tp.admin.mergePatch(NAMESPACES, tls, undefined, { metadata: { annotations: { 'kubedlp.io/inject': null } } });
  await wait('the copy removed on opt-out', async () => (await getOrUndefined(tp.admin, SECRETS, 'kube-dlp-intercept-ca', tls)) === undefined);
  // delete: opting out removes what was written.
  await tp.admin.mergePatch(NAMESPACES, ns, undefined, { metadata: { annotations: { 'kubedlp.io/inject': null } } });
  await wait('cleanup', async () => (await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-tenants', ns)) === undefined);
  t.notMatch(op.logs(), /forbidden|HTTP 403/i, 'no request was refused');
  t.equal(await op.stop(), 0);
});

t.test('without one permission the operator refuses to start and names what is missing', async (t) => {
  const sa = 'reduced';
  await tp.admin.create({ group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: NS } }, NS);
  const role = manifests.find((o) => o.kind === 'ClusterRole')! as KubeObject & { rules: { resources: string[]; verbs: string[] }[] };
  const rules = role.rules.map((r) => (r.resources[0] === 'configmaps' ? { ...r, verbs: r.verbs.filter((v) => v !== 'delete') } : r));
  const rbac = (plural: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind: '', namespaced: false });
  await tp.admin.request('POST', collectionPath(rbac('clusterroles')), { body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: sa }, rules } });
  await tp.admin.request('POST', collectionPath(rbac('clusterrolebindings')), {
    body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: sa }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: sa }, subjects: [{ kind: 'ServiceAccount', name: sa, namespace: NS }] },
  });
  const op = startOperator(await serviceAccountKubeconfig(sa), ['--leader-elect']);
  t.equal(await op.exited, 1);
  t.match(op.logs(), /"code":"KDLP_OPERATOR_FORBIDDEN"/);
  const line = op.lines.find((l) => l.includes('KDLP_OPERATOR_FORBIDDEN'))!;
  const err = (JSON.parse(line) as { err: string }).err;
  t.match(err, /delete configmaps cluster-wide/);
  t.match(err, /get leases\.coordination\.k8s\.io in namespace kube-dlp-system/, 'no Role binding either');
  t.notMatch(err, /list configmaps/, 'only what is missing');
});

