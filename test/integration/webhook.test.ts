// The injection webhook against a real kube-apiserver: the apiserver calls the
// webhook on https://127.0.0.1:PORT through the MutatingWebhookConfiguration
// that operator/webhook/webhook-configuration.ts builds (with a URL instead of
// the in-cluster Service, and one extra namespace label so that test files
// sharing the control plane are never intercepted). No operator reconciler
// runs here: the test labels and annotates namespaces the way it would.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:tls';
import pino from 'pino';
import { Registry } from 'prom-client';
import { getControlPlane, newNamespace, waitFor } from '../envtest';
import { KubeClient } from '../../operator/kube/client';
import { KubeApiError } from '../../operator/errors';
import { CONFIG_MAPS, NAMESPACES, PODS, EVENTS, DEPLOYMENTS, MUTATING_WEBHOOK_CONFIGURATIONS, REPLICA_SETS, SECRETS } from '../../operator/kube/resources';
import type { KubeObject, ObjectMeta } from '../../operator/model/kube-object';
import { EventRecorder } from '../../operator/kube/events';
import { splitPemBundle, certificateInfo } from '../../operator/certs/certificate-info';
import { SelfManagedCertificates } from '../../operator/certs/self-managed';
import { startInjection, type RunningInjection } from '../../operator/run-injection';
import { desiredWebhookConfiguration } from '../../operator/webhook/webhook-configuration';
import type { Pod } from '../../operator/inject/pod';
import { inProxyUidRange } from '../../operator/inject/proxy-uid';
import { RESTARTED_AT_ANNOTATION } from '../../operator/rollout/missing-sidecar';

const SUITE_LABEL = 'kube-dlp.test/webhook-suite';
const suite = randomBytes(4).toString('hex');
const CONFIG_NAME = `kube-dlp-injector-test-${suite}`;
const PROPAGATION_MS = 1500;
const log = pino({ level: process.env.KDLP_TEST_LOG ?? 'silent' });

interface Setup {
  client: KubeClient;
  operatorNamespace: string;
  injection: RunningInjection;
  certs: SelfManagedCertificates;
  registry: Registry;
}

const pod = (name: string, extra: Partial<ObjectMeta> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...extra },
  spec: { containers: [{ name: 'app', image: 'app:1' }] },
});

async function optIn(client: KubeClient, name: string, annotations: Record<string, string> = {}, enforcement = 'monitor'): Promise<void> {
  await client.mergePatch(NAMESPACES, name, undefined, {
    metadata: {
      // Monitor by default, as the operator mirrors a Monitor profile: pods may opt out.
      labels: { 'kubedlp.io/injection': 'enabled', 'kubedlp.io/enforcement': enforcement, [SUITE_LABEL]: suite },
      annotations: { 'kubedlp.io/inject': 'enabled', ...annotations },
    },
  });
}

async function optedInNamespace(client: KubeClient, prefix: string, annotations: Record<string, string> = {}, enforcement = 'monitor'): Promise<string> {
  const ns = await newNamespace((await getControlPlane()).kubeConfig, prefix);
  await optIn(client, ns, annotations, enforcement);
  return ns;
}

/** Waits until the apiserver sends this namespace's pods to the webhook (it picks up configuration changes a moment later). */
async function waitUntilInjecting(client: KubeClient, namespace: string): Promise<void> {
  await waitFor(
    async () => {
      const created = await client.request<Pod>('POST', `/api/v1/namespaces/${namespace}/pods`, { query: { dryRun: 'All' }, body: pod('probe') });
      return created.metadata.labels?.['kubedlp.io/injected'] === 'true';
    },
    { what: `the webhook injecting pods in ${namespace}`, timeoutMs: 30_000 },
  );
}

const setup: Promise<Setup> = (async () => {
  const plane = await getControlPlane();
  const client = await KubeClient.create(plane.kubeConfig);
  const operatorNamespace = await newNamespace(plane.kubeConfig, 'kdlp-webhook-operator');
  const registry = new Registry();
  const injection = await startInjection({
    client,
    log,
    registry,
    events: new EventRecorder(client, { instance: 'webhook-test', log }),
    operatorNamespace,
    image: 'registry.example/kube-dlp:test',
    listen: { host: '127.0.0.1', port: 0 },
    webhookConfigurationName: CONFIG_NAME,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    rotation: { propagationMs: PROPAGATION_MS },
    // Ticks are driven by the test.
    certCheckIntervalMs: 3_600_000,
    rolloutIntervalMs: 3_600_000,
    maxRestartsPerMinute: 5,
  });
  const certs = injection.certificates as SelfManagedCertificates;
  const secret = await client.get<{ data: Record<string, string> }>(SECRETS, 'kube-dlp-webhook-tls', operatorNamespace);
  const config = desiredWebhookConfiguration({
    operatorNamespace,
    failurePolicy: 'Fail',
    url: `https://127.0.0.1:${injection.address.port}/inject`,
    caBundlePem: Buffer.from(secret.data['ca.crt']!, 'base64').toString('utf8'),
    name: CONFIG_NAME,
  }) as KubeObject & { webhooks: { namespaceSelector: { matchExpressions: unknown[] } }[] };
  config.webhooks[0]!.namespaceSelector.matchExpressions.push({ key: SUITE_LABEL, operator: 'In', values: [suite] });
  await client.create(MUTATING_WEBHOOK_CONFIGURATIONS, config);
  return { client, operatorNamespace, injection, certs, registry };
})();
setup.catch(() => {});

t.teardown(async () => {
  const s = await setup.catch(() => undefined);
  if (!s) return;
  await s.client.delete(MUTATING_WEBHOOK_CONFIGURATIONS, CONFIG_NAME);
  await s.injection.close();
  s.client.close();
});

t.test('the webhook configuration registered is the one generated: Fail, 5 s, IfNeeded, Equivalent, opt-in label, system namespaces excluded', async (t) => {
  const { client, operatorNamespace } = await setup;
  const stored = await client.get<{ webhooks: Record<string, unknown>[] }>(MUTATING_WEBHOOK_CONFIGURATIONS, CONFIG_NAME);
  const w = stored.webhooks[0]!;
  t.match(w, {
    failurePolicy: 'Fail',
    timeoutSeconds: 5,
    sideEffects: 'None',
    matchPolicy: 'Equivalent',
    reinvocationPolicy: 'IfNeeded',
    namespaceSelector: { matchLabels: { 'kubedlp.io/injection': 'enabled' } },
  });
  t.same(w.objectSelector ?? {}, {}, 'every pod of the namespace is judged, opted out or not');
  const notIn = (w.namespaceSelector as { matchExpressions: { key: string; values: string[] }[] }).matchExpressions[0]!;
  t.equal(notIn.key, 'kubernetes.io/metadata.name');
  t.same(notIn.values.sort(), ['kube-node-lease', 'kube-public', 'kube-system', operatorNamespace].sort());
});

t.test('a pod in an opted-in namespace gets the native sidecar, volumes, env and tenant', async (t) => {
  const { client, injection } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-inject', { 'kubedlp.io/tenant': 'acme' });
  await waitUntilInjecting(client, ns);
  t.ok(injection.nativeSidecars, 'the envtest apiserver (>= 1.29) gets native sidecars');
  const created = await client.create<Pod>(PODS, pod('web'), ns);
  const proxy = created.spec.initContainers?.[0];
  t.equal(proxy?.name, 'kube-dlp-proxy');
  t.equal(proxy?.restartPolicy, 'Always');
  t.match(proxy, { startupProbe: { httpGet: { path: '/readyz', port: 15090 } }, securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true } });
  const uid = (proxy?.securityContext as { runAsUser?: number } | undefined)?.runAsUser;
  t.ok(inProxyUidRange(uid), `the proxy runs as the uid the webhook drew for this pod (${uid}), not a fixed one`);
  t.same(proxy?.env?.find((e) => e.name === 'KUBEDLP_TENANT'), { name: 'KUBEDLP_TENANT', value: 'acme' });
  t.same(created.spec.volumes?.map((v) => v.name).sort(), ['kube-dlp-profile', 'kube-dlp-tenants', 'kube-dlp-tmp', created.spec.volumes!.find((v) => v.name.startsWith('kube-api-access'))?.name].filter(Boolean).sort());
  const app = created.spec.containers.find((c) => c.name === 'app')!;
  t.same(app.env?.filter((e) => /proxy$/i.test(e.name)).map((e) => e.name), ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy']);
  t.equal(created.metadata.labels?.['kubedlp.io/injected'], 'true');
  t.equal(created.metadata.annotations?.['prometheus.io/port'], '15090');
});

t.test('tls.intercept: Enabled: the CA Secret is mounted into the proxy only, app containers get the trust bundle and CA variables', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-intercept', { 'kubedlp.io/tenant': 'acme' });
  // The rendered profile, as the operator writes it (it writes the CA copies first).
  await client.create(
    CONFIG_MAPS,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-dlp-profile', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'kube-dlp-operator' } },
      data: { 'profile.yaml': 'apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile: {name: default}\nspec:\n  mode: Monitor\n  tls: {intercept: Enabled}\n' },
    } as KubeObject,
    ns,
  );
  await waitFor(
    async () => {
      const dry = await client.request<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, { query: { dryRun: 'All' }, body: pod('probe') });
      return dry.spec.initContainers?.some((c) => c.name === 'kube-dlp-trust') === true;
    },
    { what: 'the webhook to see the intercepting profile', timeoutMs: 30_000 },
  );
  const created = await client.create<Pod>(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'NODE_EXTRA_CA_CERTS', value: '/own/ca.pem' }] }, { name: 'worker', image: 'worker:1' }] },
    } as KubeObject,
    ns,
  );
  const all = [...(created.spec.initContainers ?? []), ...created.spec.containers];
  const mounting = all.filter((c) => ((c.volumeMounts ?? []) as { name: string }[]).some((m) => m.name === 'kube-dlp-intercept-ca')).map((c) => c.name);
  t.same(mounting, ['kube-dlp-proxy'], 'only the proxy mounts the CA key');
  t.ok((all.find((c) => c.name === 'kube-dlp-proxy')!.args as string[]).includes('--intercept-ca-dir=/etc/kube-dlp/intercept-ca'));
  t.same((created.spec.initContainers ?? []).map((c) => c.name).slice(0, 2), ['kube-dlp-trust', 'kube-dlp-proxy'], 'the bundle is built before the proxy and the apps start');
  t.match(created.spec.volumes?.find((v) => v.name === 'kube-dlp-intercept-ca'), { secret: { secretName: 'kube-dlp-intercept-ca' } });
  t.match(created.spec.volumes?.find((v) => v.name === 'kube-dlp-ca-bundle'), { emptyDir: { medium: 'Memory' } });
  for (const name of ['app', 'worker']) {
    const c = created.spec.containers.find((x) => x.name === name)!;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    t.equal(env.SSL_CERT_FILE, '/etc/kube-dlp/ca-bundle/ca-bundle.crt', `${name}: SSL_CERT_FILE`);
    t.equal(env.REQUESTS_CA_BUNDLE, '/etc/kube-dlp/ca-bundle/ca-bundle.crt');
    t.equal(env.CURL_CA_BUNDLE, '/etc/kube-dlp/ca-bundle/ca-bundle.crt');
    t.equal(env.GIT_SSL_CAINFO, '/etc/kube-dlp/ca-bundle/ca-bundle.crt');
    t.equal(env.NODE_EXTRA_CA_CERTS, name === 'app' ? '/own/ca.pem' : '/etc/kube-dlp/trust/ca.crt', `${name}: its own value wins`);
    t.same(((c.volumeMounts ?? []) as { name: string; readOnly?: boolean }[]).filter((m) => m.name.startsWith('kube-dlp')).map((m) => [m.name, m.readOnly]), [
      ['kube-dlp-trust', true],
      ['kube-dlp-ca-bundle', true],
    ]);
  }
});

t.test('pods outside opted-in namespaces, and opted-out pods, are untouched', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-optout');
  await waitUntilInjecting(client, ns);
  const byLabel = await client.create<Pod>(PODS, pod('by-label', { labels: { 'kubedlp.io/inject': 'disabled' } }), ns);
  t.equal(byLabel.spec.initContainers, undefined, 'label opt-out (Monitor): skipped by the decision');
  const byAnnotation = await client.create<Pod>(PODS, pod('by-annotation', { annotations: { 'kubedlp.io/inject': 'disabled' } }), ns);
  t.equal(byAnnotation.spec.initContainers, undefined, 'annotation opt-out: skipped by the decision');
  t.equal(byAnnotation.metadata.labels?.['kubedlp.io/injected'], undefined);

  const plain = await newNamespace((await getControlPlane()).kubeConfig, 'kdlp-plain');
  const elsewhere = await client.create<Pod>(PODS, pod('elsewhere'), plain);
  t.equal(elsewhere.spec.initContainers, undefined, 'a namespace without the label is never sent');
});

t.test('Protect: transparent capture by default, no self opt-out, exemptions admitted and audited, forged sidecars refused', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-protect', { 'exemption.kubedlp.io/debug': 'SRE tools' }, 'protect');
  await waitUntilInjecting(client, ns);
  const web = await client.create<Pod>(PODS, pod('web'), ns);
  t.same(web.spec.initContainers?.map((c) => c.name), ['kube-dlp-init', 'kube-dlp-proxy'], 'the iptables init container, then the proxy');

  const refusal = async (p: KubeObject) => {
    const err = await client.create(PODS, p, ns).then(() => undefined, (e: unknown) => e);
    t.type(err, KubeApiError);
    return (err as KubeApiError).apiMessage;
  };
  t.match(await refusal(pod('sneaky', { labels: { 'kubedlp.io/inject': 'disabled' } })), /is in Protect mode, where a pod cannot opt itself out/);

  const exempt = await client.create<Pod>(PODS, pod('tools', { labels: { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/exemption': 'debug' } }), ns);
  t.equal(exempt.spec.initContainers, undefined, 'the exempt pod runs without the sidecar');
  await waitFor(
    async () => {
      const list = await client.list<{ reason: string; note: string; regarding: { kind: string; name: string } }>(EVENTS, { namespace: 'default' });
      return list.items.find((e) => e.reason === 'SidecarExemptionUsed' && e.regarding.name === ns && e.note.includes(`pod ${ns}/tools`));
    },
    { what: 'the SidecarExemptionUsed Event on the namespace' },
  );

  const forged = pod('forged', { annotations: { 'kubedlp.io/sidecar-status': '{"mode":"explicit","native":false,"containers":["kube-dlp-proxy","app"],"initContainers":[]}' } });
  (forged.spec as Pod['spec']).containers.unshift({ name: 'kube-dlp-proxy', image: 'busybox', command: ['sleep', 'infinity'] });
  t.match(await refusal(forged), /container kube-dlp-proxy is not the kube-dlp sidecar/);
});

t.test("a Deployment's pod is injected (a Pod created from the Deployment's template, owned by its ReplicaSet)", async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-deploy');
  await waitUntilInjecting(client, ns);
  const template = { metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image: 'shop:1' }] } };
  const deployment = await client.create<KubeObject>(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'shop' } }, template },
  }, ns);
  t.equal((deployment.spec as { template: { spec: { initContainers?: unknown } } }).template.spec.initContainers, undefined, 'the Deployment itself is not changed');
  const created = await client.create<Pod>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      // As a ReplicaSet creates it: the API server picks the name from generateName when name is empty.
      name: '',
      generateName: 'shop-5d4f8-',
      labels: template.metadata.labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-5d4f8', uid: deployment.metadata.uid!, controller: true }],
    },
    spec: template.spec,
  }, ns);
  t.equal(created.spec.initContainers?.[0]?.name, 'kube-dlp-proxy');
  t.ok(created.spec.containers[0]!.env?.some((e) => e.name === 'HTTPS_PROXY'));
});

t.test('re-submitting an injected pod changes nothing but the proxy uid, drawn again', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-idem');
  await waitUntilInjecting(client, ns);
  const first = await client.create<Pod>(PODS, pod('first'), ns);
  const again: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'again', labels: first.metadata.labels, annotations: first.metadata.annotations }, spec: structuredClone(first.spec) };
  const second = await client.create<Pod>(PODS, again as unknown as KubeObject, ns);
  const proxyOf = (p: Pod) => p.spec.initContainers!.find((c) => c.name === 'kube-dlp-proxy')!;
  const uidOf = (p: Pod) => (proxyOf(p).securityContext as { runAsUser: number }).runAsUser;
  t.not(uidOf(second), uidOf(first), 'the uid in the request is not kept');
  const sameUid = structuredClone(second.spec);
  proxyOf({ ...second, spec: sameUid }).securityContext = proxyOf(first).securityContext;
  t.same(sameUid, first.spec, 'same spec otherwise: nothing added twice');
  t.same(second.metadata.annotations, first.metadata.annotations);
});

t.test('transparent capture by annotation adds the iptables init container with NET_ADMIN and NET_RAW', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-transparent');
  await waitUntilInjecting(client, ns);
  const created = await client.create<Pod>(PODS, pod('captured', { annotations: { 'kubedlp.io/capture-mode': 'transparent' } }), ns);
  t.same(created.spec.initContainers?.map((c) => c.name), ['kube-dlp-init', 'kube-dlp-proxy']);
  t.match(created.spec.initContainers?.[0], { securityContext: { runAsUser: 0, capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] } } });
  t.notOk(created.spec.containers[0]!.env?.some((e) => e.name === 'HTTP_PROXY'), 'no proxy environment in transparent mode');
});

t.test('invalid pod annotations are refused with every problem in one message', async (t) => {
  const { client } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-invalid');
  await waitUntilInjecting(client, ns);
  const err = await client.create(PODS, pod('typo', { annotations: { 'kubedlp.io/capture-mode': 'iptables', 'kubedlp.io/exclude-outbound-ports': '70000' } }), ns).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, KubeApiError);
  t.match((err as KubeApiError).apiMessage, /kubedlp\.io\/capture-mode: must be one of explicit, transparent/);
  t.match((err as KubeApiError).apiMessage, /kubedlp\.io\/exclude-outbound-ports: "70000"/);
});

/** The fingerprint of the certificate the webhook server presents to a new connection. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert.fingerprint256);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

t.test('certificate rotation keeps admission working: new CA trusted, then served, then the old one dropped', async (t) => {
  const { client, certs, injection } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-rotate');
  await waitUntilInjecting(client, ns);
  const bundle = async () => {
    const c = await client.get<{ webhooks: { clientConfig: { caBundle: string } }[] }>(MUTATING_WEBHOOK_CONFIGURATIONS, CONFIG_NAME);
    return splitPemBundle(Buffer.from(c.webhooks[0]!.clientConfig.caBundle, 'base64').toString('utf8')).map((p) => certificateInfo(p).fingerprint);
  };
  const admitted = async (name: string) => (await client.create<Pod>(PODS, pod(name), ns)).metadata.labels?.['kubedlp.io/injected'];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const [oldCa] = await bundle();
  const oldServed = await servedFingerprint(injection.address.port);
  t.equal(await admitted('before'), 'true', 'before rotation');

  certs.requestCaRotation();
  t.match(await certs.tick(), { step: { kind: 'add-next-ca' }, applied: true, published: 'patched' });
  const both = await bundle();
  t.equal(both.length, 2, 'the next CA joins the bundle');
  t.equal(both[0], oldCa);
  t.equal(await servedFingerprint(injection.address.port), oldServed, 'still serving the old certificate');
  t.equal(await admitted('next-ca-trusted'), 'true', 'with both CAs trusted');

  t.match(await certs.tick(), { step: { kind: 'wait' } }, 'the switch waits for propagation');
  await sleep(PROPAGATION_MS + 100);
  t.match(await certs.tick(), { step: { kind: 'switch-to-next-ca' }, applied: true });
  t.not(await servedFingerprint(injection.address.port), oldServed, 'serving a certificate of the new CA');
  t.same(await bundle(), both, 'the old CA is still trusted');
  t.equal(await admitted('switched'), 'true', 'after the switch');

  await sleep(PROPAGATION_MS + 100);
  t.match(await certs.tick(), { step: { kind: 'drop-old-cas' }, applied: true, published: 'patched' });
  t.same(await bundle(), [both[1]], 'only the new CA is trusted');
  // The apiserver rebuilds its client for the changed configuration a moment later; admission must hold throughout.
  for (let i = 0; i < 5; i++) {
    t.equal(await admitted(`after-${i}`), 'true', `after the old CA left the bundle (${i})`);
    await sleep(300);
  }
  t.match(await certs.tick(), { step: { kind: 'none' } }, 'nothing left to do');
});

t.test('running pods missing the sidecar are reported, and their Deployment restarted with kubedlp.io/rollout: auto', async (t) => {
  const { client, injection, registry } = await setup;
  const ns = await newNamespace((await getControlPlane()).kubeConfig, 'kdlp-rollout');
  // Before opt-in: a Deployment, its ReplicaSet and a running pod without the sidecar.
  const template = { metadata: { labels: { app: 'old' } }, spec: { containers: [{ name: 'old', image: 'old:1' }] } };
  const deployment = await client.create<KubeObject>(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'old' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'old' } }, template },
  }, ns);
  const rs = await client.create<KubeObject>(REPLICA_SETS, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'old-6b7c9', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'old', uid: deployment.metadata.uid!, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: 'old' } }, template },
  }, ns);
  await client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'old-6b7c9-abcde', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'old-6b7c9', uid: rs.metadata.uid!, controller: true }] },
    spec: template.spec,
  }, ns);
  await client.create(PODS, pod('bare'), ns);
  await optIn(client, ns, { 'kubedlp.io/rollout': 'auto' });

  const rollout = await injection.startRollout();
  const report = await waitFor(
    async () => {
      const r = await rollout.sweep();
      return r.missing.get(ns) === 2 ? r : undefined;
    },
    { what: 'the rollout seeing both pods of the opted-in namespace' },
  );
  t.same(report.restarted, [`Deployment ${ns}/old`], 'the Deployment is restarted; the bare pod is only reported');
  const restarted = await client.get<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(DEPLOYMENTS, 'old', ns);
  t.ok(Date.parse(restarted.spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION] ?? ''), 'restartedAt is set on the pod template');

  const metrics = await registry.getSingleMetricAsString('kubedlp_pods_missing_sidecar');
  t.match(metrics, new RegExp(`kubedlp_pods_missing_sidecar\\{namespace="${ns}"\\} 2`));

  const again = await rollout.sweep();
  t.same(again.restarted, [], 'not restarted again while the old pods are still there (restartedAt is newer than them)');

  const events = await waitFor(
    async () => {
      const list = await client.list<{ reason: string; regarding: { kind: string; name: string } }>(EVENTS, { namespace: ns });
      const reasons = list.items.map((e) => `${e.reason} ${e.regarding.kind}/${e.regarding.name}`);
      const wanted = ['SidecarRolloutRestarted Deployment/old', 'SidecarMissing Pod/bare', `PodsMissingSidecar Namespace/${ns}`];
      return wanted.every((w) => reasons.includes(w)) ? reasons : undefined;
    },
    { what: 'the rollout Events: restart, missing pod, namespace summary' },
  );
  t.ok(events.includes('SidecarMissing Pod/old-6b7c9-abcde'), 'an Event on each pod missing the sidecar');
  injection.stopRollout();
});

t.test('after an opt-out, pods still running the sidecar are reported, and their Deployment restarted with kubedlp.io/rollout: auto', async (t) => {
  const { client, injection, registry } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-optout-rollout', { 'kubedlp.io/rollout': 'auto' });
  await waitUntilInjecting(client, ns);
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } };
  const deployment = await client.create<KubeObject>(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template },
  }, ns);
  const rs = await client.create<KubeObject>(REPLICA_SETS, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-5f6d7', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deployment.metadata.uid!, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template },
  }, ns);
  const injectedPod = await client.create<Pod>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-5f6d7-abcde', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f6d7', uid: rs.metadata.uid!, controller: true }] },
    spec: template.spec,
  }, ns);
  t.equal(injectedPod.metadata.labels?.['kubedlp.io/injected'], 'true');

  // The opt-out, as the operator leaves it: annotation disabled, labels removed.
  await client.mergePatch(NAMESPACES, ns, undefined, {
    metadata: { annotations: { 'kubedlp.io/inject': 'disabled' }, labels: { 'kubedlp.io/injection': null, 'kubedlp.io/enforcement': null } },
  });
  const rollout = await injection.startRollout();
  const report = await waitFor(
    async () => {
      const r = await rollout.sweep();
      return r.orphaned.get(ns) === 1 ? r : undefined;
    },
    { what: 'the rollout seeing the orphaned pod' },
  );
  t.same(report.restarted, [`Deployment ${ns}/web`], 'the Deployment is restarted, so its pods come back without the sidecar');
  t.match(await registry.getSingleMetricAsString('kubedlp_pods_orphaned_sidecar'), new RegExp(`kubedlp_pods_orphaned_sidecar\\{namespace="${ns}"\\} 1`));
  await waitFor(
    async () => {
      const list = await client.list<{ reason: string; regarding: { kind: string; name: string } }>(EVENTS, { namespace: ns });
      return list.items.some((e) => e.reason === 'PodsOrphanedSidecar' && e.regarding.name === ns);
    },
    { what: 'the PodsOrphanedSidecar Event on the namespace' },
  );
  injection.stopRollout();
});

t.test('after its profile is deleted, pods still running the sidecar are reported and not restarted, even with kubedlp.io/rollout: auto', async (t) => {
  const { client, injection, registry } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-noprofile-rollout', { 'kubedlp.io/rollout': 'auto' });
  await waitUntilInjecting(client, ns);
  const template = { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'api:1' }] } };
  const deployment = await client.create<KubeObject>(DEPLOYMENTS, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'api' } }, template },
  }, ns);
  const rs = await client.create<KubeObject>(REPLICA_SETS, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'api-7c8d9', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: deployment.metadata.uid!, controller: true }] },
    spec: { replicas: 1, selector: { matchLabels: { app: 'api' } }, template },
  }, ns);
  const injectedPod = await client.create<Pod>(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'api-7c8d9-abcde', labels: template.metadata.labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7c8d9', uid: rs.metadata.uid!, controller: true }] },
    spec: template.spec,
  }, ns);
  t.equal(injectedPod.metadata.labels?.['kubedlp.io/injected'], 'true');

  // The profile deleted, as the operator leaves the namespace: still opted in, status missing.
  await client.mergePatch(NAMESPACES, ns, undefined, { metadata: { annotations: { 'kubedlp.io/profile-status': 'missing: profile "gone" not found' } } });
  const rollout = await injection.startRollout();
  const report = await waitFor(
    async () => {
      const r = await rollout.sweep();
      return r.profileMissing.get(ns) === 1 ? r : undefined;
    },
    { what: 'the rollout seeing the pod whose profile is gone' },
  );
  t.same(report.restarted, [], 'not restarted: the webhook would refuse the replacement');
  t.equal(report.orphaned.get(ns), undefined, 'not an opt-out');
  const current = await client.get<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>(DEPLOYMENTS, 'api', ns);
  t.equal(current.spec.template.metadata.annotations?.[RESTARTED_AT_ANNOTATION], undefined, 'the Deployment is untouched');
  t.match(await registry.getSingleMetricAsString('kubedlp_pods_profile_missing'), new RegExp(`kubedlp_pods_profile_missing\\{namespace="${ns}"\\} 1`));
  const note = await waitFor(
    async () => {
      const list = await client.list<{ reason: string; note?: string; regarding: { name: string } }>(EVENTS, { namespace: ns });
      return list.items.find((e) => e.reason === 'PodsProfileMissing' && e.regarding.name === ns)?.note;
    },
    { what: 'the PodsProfileMissing Event on the namespace' },
  );
  t.match(note, /1 pod\(s\) run the kube-dlp sidecar but the namespace's profile is gone \(profile "gone" not found\): api-7c8d9-abcde/);
  t.match(note, /Recreate the profile/);

  // The profile is back: the report clears.
  await client.mergePatch(NAMESPACES, ns, undefined, { metadata: { annotations: { 'kubedlp.io/profile-status': 'rendered: ClusterSecurityProfile gone' } } });
  await waitFor(
    async () => {
      const r = await rollout.sweep();
      return r.profileMissing.get(ns) === undefined;
    },
    { what: 'the report to clear once the profile is back' },
  );
  t.notMatch(await registry.getSingleMetricAsString('kubedlp_pods_profile_missing'), new RegExp(`namespace="${ns}"`));
  injection.stopRollout();
});

t.test('with the webhook server stopped and failurePolicy Fail, pod creation fails in opted-in namespaces and succeeds elsewhere', async (t) => {
  const { client, injection } = await setup;
  const ns = await optedInNamespace(client, 'kdlp-outage');
  await waitUntilInjecting(client, ns);
  await injection.close();
  const err = await client.create(PODS, pod('during-outage'), ns).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, KubeApiError, 'refused in the opted-in namespace');
  t.match((err as KubeApiError).apiMessage, /failed calling webhook "inject\.kubedlp\.io"/);
  const plain = await newNamespace((await getControlPlane()).kubeConfig, 'kdlp-outage-plain');
  const ok = await client.create<Pod>(PODS, pod('unaffected'), plain);
  t.equal(ok.metadata.name, 'unaffected', 'admitted elsewhere');
});
