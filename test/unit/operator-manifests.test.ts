// The install manifests as `kubectl kustomize` builds them (config/default,
// the out-of-cluster overlay, the cert-manager component): every piece
// present, the Deployment hardened, RBAC exactly the permission table.
// Whether the API server accepts them is tested in
// test/integration/operator-install.test.ts.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { kustomizeBuild, kustomizeComposition } from '../integration/operator-manifests';
import { CLUSTER_PERMISSIONS, NAMESPACE_PERMISSIONS, rulesOf } from '../../operator/rbac/permissions';
import type { KubeObject } from '../../operator/model/kube-object';

const ROOT = join(__dirname, '..', '..');
const objects = kustomizeBuild(join(ROOT, 'config', 'default'));
const find = (kind: string, name?: string): KubeObject => {
  const hit = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind} ${name ?? ''}`);
  return hit;
};

t.test('config/default composes CRDs, RBAC, the manager, its NetworkPolicy and the injection webhook', async (t) => {
  t.same(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'ClusterRole/kube-dlp-operator',
    'ClusterRoleBinding/kube-dlp-operator',
    'CustomResourceDefinition/clustersecurityprofiles.kubedlp.io',
    'CustomResourceDefinition/securityprofileproposals.kubedlp.io',
    'CustomResourceDefinition/securityprofiles.kubedlp.io',
    'Deployment/kube-dlp-operator',
    'MutatingWebhookConfiguration/kube-dlp-injector',
    'Namespace/kube-dlp-system',
    'NetworkPolicy/kube-dlp-operator-allow-metrics',
    'PodDisruptionBudget/kube-dlp-operator',
    'Role/kube-dlp-operator-leader-election',
    'RoleBinding/kube-dlp-operator-leader-election',
    'Service/kube-dlp-operator-metrics',
    'Service/kube-dlp-webhook',
    'ServiceAccount/kube-dlp-operator',
  ]);
  for (const o of objects) {
    if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'MutatingWebhookConfiguration'].includes(o.kind)) {
      t.equal(o.metadata.namespace, 'kube-dlp-system', `${o.kind} namespaced by the kustomization`);
    }
  }
  for (const binding of [find('ClusterRoleBinding'), find('RoleBinding')]) {
    t.same(binding.subjects, [{ kind: 'ServiceAccount', name: 'kube-dlp-operator', namespace: 'kube-dlp-system' }]);
  }
});

t.test('the Deployment: two replicas, spread, hardened, probed, leader-elected', async (t) => {
  const d = find('Deployment') as KubeObject & { spec: any };
  t.equal(d.spec.replicas, 2);
  const pod = d.spec.template.spec;
  t.equal(pod.serviceAccountName, 'kube-dlp-operator');
  t.same(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.equal(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
  t.same(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchLabels, d.spec.selector.matchLabels);
  const [c] = pod.containers;
  t.same(c.securityContext, {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  t.same(c.args, ['operator', '--leader-elect', '--admin=:15091', '--webhook-listen=0.0.0.0:9443']);
  // One image reference: the proxy follows the operator's image (no --proxy-image).
  t.equal(JSON.stringify(objects).split(String(c.image)).length - 1, 1, 'the image is named once in config/default');
  t.equal(c.livenessProbe.httpGet.path, '/healthz');
  t.equal(c.readinessProbe.httpGet.path, '/readyz');
  t.same(c.env.map((e: { name: string }) => e.name), ['POD_NAME', 'POD_NAMESPACE']);
  t.ok(c.resources.limits.memory, 'memory limit');
  const pdb = find('PodDisruptionBudget') as KubeObject & { spec: any };
  t.equal(pdb.spec.minAvailable, 1);
  t.same(pdb.spec.selector.matchLabels, d.spec.selector.matchLabels);
  const svc = find('Service') as KubeObject & { spec: any };
  t.same(svc.spec.selector, d.spec.selector.matchLabels);
  t.equal(svc.spec.ports[0].targetPort, 'http-admin');
  const np = find('NetworkPolicy') as KubeObject & { spec: any };
  t.same(np.spec.podSelector.matchLabels, d.spec.selector.matchLabels);
  t.same(np.spec.ingress[0].ports, [{ port: 15091, protocol: 'TCP' }]);
});

t.test('RBAC is exactly the permission table: no wildcards, one rule per resource', async (t) => {
  const clusterRole = find('ClusterRole') as KubeObject & { rules: unknown[] };
  t.same(clusterRole.rules, rulesOf(CLUSTER_PERMISSIONS));
  t.same((find('Role') as KubeObject & { rules: unknown[] }).rules, rulesOf(NAMESPACE_PERMISSIONS));
  const text = JSON.stringify([clusterRole, find('Role')]);
  t.notMatch(text, /"\*"/, 'no wildcard');
  // Cluster-wide, Secrets may be created (which reveals nothing) or read and
  // changed by the one name the operator owns in tenant namespaces; never
  // listed, watched or read by any other name.
  const secretRules = (clusterRole.rules as { resources: string[]; verbs: string[]; resourceNames?: string[] }[]).filter((r) =>
    r.resources.includes('secrets'),
  );
  t.ok(secretRules.length > 0, 'the tenant CA copy needs Secrets in tenant namespaces');
  for (const rule of secretRules) {
    if (rule.resourceNames === undefined) t.same(rule.verbs, ['create'], 'unnamed cluster-wide Secret access is create only');
    else t.same(rule.resourceNames, ['kube-dlp-intercept-ca'], 'named cluster-wide Secret access is the intercept CA copy only');
    t.notOk(rule.verbs.some((v) => v === 'list' || v === 'watch'), 'no cluster-wide list or watch of Secrets');
  }
});

/** Every folder under config/ with a kustomization of kind Kustomization (components build only inside one). */
function kustomizations(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (!statSync(path).isDirectory()) continue;
    const file = join(path, 'kustomization.yaml');
    if (existsSync(file) && (parse(readFileSync(file, 'utf8')) as { kind?: string }).kind !== 'Component') out.push(path);
    kustomizations(path, out);
  }
  return out;
}

t.test('every kustomization under config/ builds', async (t) => {
  const dirs = kustomizations(join(ROOT, 'config'));
  t.ok(dirs.some((d) => d.endsWith(join('overlays', 'out-of-cluster'))), 'the overlay is among them');
  for (const dir of dirs) t.ok(kustomizeBuild(dir).length > 0, relative(ROOT, dir));
});

t.test('the out-of-cluster overlay: CRDs, namespace and webhook configuration, no Deployment', async (t) => {
  const overlay = kustomizeBuild(join(ROOT, 'config', 'overlays', 'out-of-cluster'));
  const kinds = overlay.map((o) => o.kind);
  t.equal(kinds.filter((k) => k === 'CustomResourceDefinition').length, 3);
  t.ok(kinds.includes('Namespace') && kinds.includes('MutatingWebhookConfiguration'));
  t.notOk(kinds.includes('Deployment'), 'the operator runs outside the cluster');
  t.equal(overlay.find((o) => o.kind === 'Namespace')?.metadata.name, 'kube-dlp-system');
});

t.test('config/certmanager on top of config/default: cert-manager issues the webhook certificate and injects its CA', async (t) => {
  const built = kustomizeComposition([join(ROOT, 'config', 'default')], [join(ROOT, 'config', 'certmanager')]);
  const named = (kind: string, name: string) => built.find((o) => o.kind === kind && o.metadata.name === name) as (KubeObject & { spec: any }) | undefined;
  const serving = named('Certificate', 'kube-dlp-webhook');
  t.ok(serving, 'the serving Certificate');
  t.equal(serving?.metadata.namespace, 'kube-dlp-system');
  t.equal(serving?.spec.secretName, 'kube-dlp-webhook-tls', 'the Secret the operator mounts in --webhook-cert-mode files');
  const service = named('Service', 'kube-dlp-webhook');
  t.ok(serving?.spec.dnsNames.includes(`${service?.metadata.name}.${service?.metadata.namespace}.svc`), 'the certificate names the webhook Service');
  t.equal(named('Issuer', serving?.spec.issuerRef.name)?.spec.ca.secretName, named('Certificate', 'kube-dlp-webhook-ca')?.spec.secretName, 'signed by the CA');
  const webhook = named('MutatingWebhookConfiguration', 'kube-dlp-injector');
  t.equal(webhook?.metadata.annotations?.['cert-manager.io/inject-ca-from'], 'kube-dlp-system/kube-dlp-webhook', 'the patch reached the webhook');
  t.same(
    built.filter((o) => o.kind !== 'Certificate' && o.kind !== 'Issuer').map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
    'otherwise config/default as is',
  );
});
