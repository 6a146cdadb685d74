// The MutatingWebhookConfiguration's safety properties, the cluster version
// check, and the permission table (config/webhook/manifests.yaml up to date:
// generated-files.test.ts).
import t from 'tap';
import { desiredWebhookConfiguration, serviceDnsNames } from '../../operator/webhook/webhook-configuration';
import { parseClusterVersion, supportsNativeSidecars } from '../../operator/webhook/cluster-version';
import { CLUSTER_PERMISSIONS, NAMESPACE_PERMISSIONS } from '../../operator/rbac/permissions';

interface Hook {
  failurePolicy: string;
  timeoutSeconds: number;
  sideEffects: string;
  matchPolicy: string;
  reinvocationPolicy: string;
  namespaceSelector: { matchLabels: Record<string, string>; matchExpressions: { key: string; operator: string; values: string[] }[] };
  objectSelector: unknown;
  rules: { operations: string[]; resources: string[] }[];
  clientConfig: { service?: { namespace: string; path: string }; url?: string; caBundle?: string };
}

t.test('only opted-in namespaces, never system ones or the operator\'s; pods on create; short timeout', async (t) => {
  const c = desiredWebhookConfiguration({ operatorNamespace: 'ops', failurePolicy: 'Fail' }) as unknown as { webhooks: Hook[] };
  t.equal(c.webhooks.length, 1);
  const w = c.webhooks[0]!;
  t.same(w.namespaceSelector.matchLabels, { 'kubedlp.io/injection': 'enabled' });
  t.same(w.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease', 'ops'] }]);
  t.equal(w.objectSelector, undefined, 'no objectSelector: a pod cannot keep itself from being judged');
  t.match(w, { failurePolicy: 'Fail', timeoutSeconds: 5, sideEffects: 'None', matchPolicy: 'Equivalent', reinvocationPolicy: 'IfNeeded' });
  t.same(w.rules.map((r) => [r.operations, r.resources]), [[['CREATE'], ['pods']]]);
  t.same(w.clientConfig, { service: { namespace: 'ops', name: 'kube-dlp-webhook', path: '/inject', port: 443 } });
  const ignore = desiredWebhookConfiguration({ operatorNamespace: 'ops', failurePolicy: 'Ignore', url: 'https://127.0.0.1:9443/inject', caBundlePem: 'PEM' }) as unknown as { webhooks: Hook[] };
  t.equal(ignore.webhooks[0]!.failurePolicy, 'Ignore');
  t.same(ignore.webhooks[0]!.clientConfig, { url: 'https://127.0.0.1:9443/inject', caBundle: Buffer.from('PEM').toString('base64') });
  t.same(serviceDnsNames('ops'), ['kube-dlp-webhook', 'kube-dlp-webhook.ops', 'kube-dlp-webhook.ops.svc', 'kube-dlp-webhook.ops.svc.cluster.local']);
});

t.test('native sidecars from Kubernetes 1.29, whatever the provider writes', async (t) => {
  t.ok(supportsNativeSidecars(parseClusterVersion({ major: '1', minor: '29', gitVersion: 'v1.29.0' })));
  t.ok(supportsNativeSidecars(parseClusterVersion({ major: '1', minor: '30+', gitVersion: 'v1.30.2-gke.1' })));
  t.notOk(supportsNativeSidecars(parseClusterVersion({ major: '1', minor: '28', gitVersion: 'v1.28.9' })));
  t.ok(supportsNativeSidecars(parseClusterVersion({ gitVersion: 'v1.37.2' })), 'from gitVersion when major/minor are missing');
  t.notOk(supportsNativeSidecars(parseClusterVersion({})), 'unknown: the regular sidecar works everywhere');
});

t.test('every operator permission (the webhook\'s too) says why and uses RBAC verbs', async (t) => {
  const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
  for (const p of [...CLUSTER_PERMISSIONS, ...NAMESPACE_PERMISSIONS]) {
    t.ok(p.why.length > 10, `${p.resource}: ${p.why}`);
    t.ok(p.verbs.every((v) => verbs.includes(v)), `${p.resource}: ${p.verbs.join(',')}`);
  }
});
