// `kube-dlp operator --webhook-host`: the operator out of cluster, as a
// developer runs it. The real CLI process serves the webhook at the given
// address, puts it in its certificate and points the installed webhook
// configuration (generated, with a Service) at that URL, and the API server
// then injects pods through it. Without an image to inject, the log and
// readiness say the webhook is off.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { freeLoopbackPort } from '../envtest/ports';
import { waitFor } from '../envtest/wait';
import { NAMESPACES, MUTATING_WEBHOOK_CONFIGURATIONS } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import type { Pod } from '../../operator/inject/pod';
import { desiredWebhookConfiguration, WEBHOOK_CONFIGURATION_NAME } from '../../operator/webhook/webhook-configuration';
import { applyProfile, createNamespace, securityProfile, startOperator, startTestPlane, type TestPlane } from './operator-harness';

const suite = randomBytes(4).toString('hex');
const SUITE_LABEL = 'kube-dlp-test/webhook-host-suite';
let tp: TestPlane;

t.before(async () => {
  tp = await startTestPlane();
});
t.teardown(async () => {
  await tp?.admin.delete(MUTATING_WEBHOOK_CONFIGURATIONS, WEBHOOK_CONFIGURATION_NAME).catch(() => undefined);
  await tp?.stop();
});

type Webhooks = KubeObject & { webhooks: { clientConfig: { url?: string; service?: unknown; caBundle?: string }; namespaceSelector: { matchExpressions: unknown[] } }[] };

t.test('--webhook-host serves the webhook there and registers it as a URL', async (t) => {
  const operatorNs = await createNamespace(tp.admin, 'kdlp-whost-op');
  // As `kubectl apply -k config/default` installs it (Service clientConfig),
  // scoped to this suite's namespaces so no other test's pods are sent here.
  const installed = desiredWebhookConfiguration({ operatorNamespace: operatorNs, failurePolicy: 'Fail' }) as Webhooks;
  installed.webhooks[0]!.namespaceSelector.matchExpressions.push({ key: SUITE_LABEL, operator: 'In', values: [suite] });
  await tp.admin.create(MUTATING_WEBHOOK_CONFIGURATIONS, installed);

  const port = await freeLoopbackPort();
  const url = `https://127.0.0.1:${port}/inject`;
  const op = startOperator(tp.plane.kubeconfigPath, [
    '--namespace', operatorNs, '--skip-permission-check',
    '--proxy-image', 'registry.example/kube-dlp:dev', '--webhook-host', `127.0.0.1:${port}`,
  ]);
  t.teardown(() => op.stop());

  const registered = await waitFor(
    async () => {
      const c = (await tp.admin.get<Webhooks>(MUTATING_WEBHOOK_CONFIGURATIONS, WEBHOOK_CONFIGURATION_NAME)).webhooks[0]!.clientConfig;
      return c.url === url && c.caBundle ? c : undefined;
    },
    { what: `the webhook configuration pointing at ${url}`, timeoutMs: 60_000 },
  );
  t.equal(registered.service, undefined, 'the Service is replaced by the URL');

  const ns = await createNamespace(tp.admin, 'kdlp-whost-app');
  // The namespace names its own profile: the cluster's `default` profile
  // exists only if another suite sharing this API server created it first.
  await applyProfile(tp.admin, securityProfile(ns, 'whost', { mode: 'Monitor' }));
  await tp.admin.mergePatch(NAMESPACES, ns, undefined, {
    metadata: {
      labels: { 'kubedlp.io/injection': 'enabled', [SUITE_LABEL]: suite },
      annotations: { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/profile': 'whost' },
    },
  });
  const probe = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe' }, spec: { containers: [{ name: 'app', image: 'app:1' }] } };
  // The API server verified the serving certificate for 127.0.0.1 against the published caBundle.
  const injected = await waitFor(
    async () => {
      const pod = await tp.admin.request<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, { query: { dryRun: 'All' }, body: probe });
      return pod.metadata.labels?.['kubedlp.io/injected'] === 'true' ? pod : undefined;
    },
    { what: `the API server injecting through ${url}`, timeoutMs: 60_000 },
  );
  const proxy = [...(injected.spec.initContainers ?? []), ...injected.spec.containers].find((c) => c.name === 'kube-dlp-proxy');
  t.equal(proxy?.image, 'registry.example/kube-dlp:dev');
  t.match(op.logs(), /injection webhook serving/);
});

t.test('out of cluster without --proxy-image the log says the webhook is off', async (t) => {
  const operatorNs = await createNamespace(tp.admin, 'kdlp-whost-off');
  const op = startOperator(tp.plane.kubeconfigPath, ['--namespace', operatorNs, '--skip-permission-check']);
  t.teardown(() => op.stop());
  await waitFor(async () => /injection webhook OFF/.test(op.logs()) || undefined, { what: 'the webhook-off warning', timeoutMs: 30_000 });
  t.pass('warned');
  // The first test left kube-dlp-injector installed: nothing serves it now, and readiness says so.
  const admin = await op.adminUrl();
  const res = await waitFor(
    async () => {
      const r = await fetch(`${admin}/readyz`);
      const body = await r.text();
      return /webhook off/.test(body) ? { status: r.status, body } : undefined;
    },
    { what: 'readiness naming the missing webhook', timeoutMs: 30_000 },
  );
  t.equal(res.status, 503);
  t.match(res.body, /MutatingWebhookConfiguration kube-dlp-injector is installed/);
});
