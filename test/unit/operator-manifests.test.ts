// The install manifests (config/default) as kustomize composes them: every
// piece present, the Deployment hardened, RBAC exactly the permission table.
// Whether the API server accepts them is tested in
// test/integration/operator-install.test.ts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadKustomization } from '../integration/operator-manifests';
import { CLUSTER_PERMISSIONS, NAMESPACE_PERMISSIONS, rulesOf } from '../../operator/rbac/permissions';
import type { KubeObject } from '../../operator/model/kube-object';

const ROOT = join(__dirname, '..', '..');
const objects = loadKustomization(join(ROOT, 'config', 'default'));
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
  // Secrets only in the operator's own namespace (the webhook's TLS Secret), never cluster-wide.
  t.notMatch(JSON.stringify(clusterRole), /secrets/, 'no cluster-wide secrets');
});

/** A real kustomize, when installed (e.g. `go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1`). */
function kustomizeBinary(): string | undefined {
  const candidates = [process.env.KUSTOMIZE, join(homedir(), '.cache', 'kube-dlp', 'tools', 'kustomize')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v kustomize'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
}

t.test('the loader agrees with `kustomize build config/default`', async (t) => {
  const bin = kustomizeBinary();
  if (!bin) return t.plan(0, 'kustomize is not installed; set KUSTOMIZE to compare');
  const out = spawnSync(bin, ['build', join(ROOT, 'config', 'default')], { encoding: 'utf8' });
  t.equal(out.status, 0, out.stderr);
  const built = parseAllDocuments(out.stdout).map((d) => d.toJS() as KubeObject);
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const byKey = new Map(built.map((o) => [key(o), o]));
  t.same([...byKey.keys()].sort(), objects.map(key).sort());
  for (const o of objects) t.same(byKey.get(key(o)), o, key(o));
});
