// The webhook side of "Protect means protected": exemptions are counted and
// audited, dry runs are not, and Protect namespaces default to transparent
// capture while Monitor ones keep the operator's default.
import t from 'tap';
import { Registry } from 'prom-client';
import { DEFAULT_INJECTION_CONFIG } from '../../operator/inject/inject';
import { strictest } from '../../operator/inject/profile-allowances';
import { loadTemplate } from '../../operator/inject/render-template';
import type { Pod } from '../../operator/inject/pod';
import type { EventTarget, RecordedEvent } from '../../operator/kube/events';
import { silentLogger } from '../../operator/kube/logger';
import type { NamespaceView } from '../../operator/model/views';
import { InjectionHandler } from '../../operator/webhook/handler';
import { WebhookMetrics } from '../../operator/webhook/metrics';

function harness(labels: Record<string, string>, annotations: Record<string, string> = {}) {
  const namespace: NamespaceView = { name: 'shop', uid: 'uid-shop', labels, annotations: { 'kubedlp.io/inject': 'enabled', ...annotations }, terminating: false };
  const events: { target: EventTarget; event: RecordedEvent }[] = [];
  const metrics = new WebhookMetrics(new Registry());
  const handler = new InjectionHandler({
    template: loadTemplate(),
    config: { ...DEFAULT_INJECTION_CONFIG, image: 'kube-dlp:1', nativeSidecars: true },
    defaultCaptureMode: 'explicit',
    optIn: { operatorNamespace: 'kube-dlp-system' },
    failurePolicy: 'Fail',
    namespaces: { namespace: async () => namespace },
    allowances: { allowances: async () => strictest('test') },
    metrics,
    log: silentLogger,
    events: { record: (target, event) => events.push({ target, event }) },
  });
  const review = (pod: Pod, dryRun = false) =>
    handler.review({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: 'shop', operation: 'CREATE', object: pod, dryRun },
    });
  return { review, events, metrics };
}

const pod = (labels: Record<string, string> = {}): Pod => ({ metadata: { name: 'p', namespace: 'shop', labels }, spec: { containers: [{ name: 'app', image: 'a' }] } });
const exempt = { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/exemption': 'debug' };

t.test('an exemption used in Protect is counted by namespace and exemption, and audited on the namespace', async (t) => {
  const h = harness({ 'kubedlp.io/enforcement': 'protect' }, { 'exemption.kubedlp.io/debug': 'SRE tools' });
  const { review } = await h.review(pod(exempt));
  t.equal(review.response.allowed, true);
  t.equal(review.response.patch, undefined, 'admitted unchanged');
  const counted = (await h.metrics.exemptions.get()).values;
  t.same(counted.map((v) => [v.labels, v.value]), [[{ namespace: 'shop', exemption: 'debug' }, 1]]);
  t.equal(h.events.length, 1);
  t.match(h.events[0], {
    target: { kind: 'Namespace', name: 'shop', uid: 'uid-shop' },
    event: { type: 'Warning', reason: 'SidecarExemptionUsed', note: /pod shop\/p admitted without the kube-dlp sidecar under exemption "debug" \(SRE tools\)/ },
  });
});

t.test('a dry run uses the exemption without counting or auditing it', async (t) => {
  const h = harness({ 'kubedlp.io/enforcement': 'protect' }, { 'exemption.kubedlp.io/debug': 'SRE tools' });
  t.equal((await h.review(pod(exempt), true)).review.response.allowed, true);
  t.same((await h.metrics.exemptions.get()).values, []);
  t.equal(h.events.length, 0);
});

t.test('an exemption not granted is refused and counted as a failure, not as an exemption', async (t) => {
  const h = harness({ 'kubedlp.io/enforcement': 'protect' });
  const { review } = await h.review(pod(exempt));
  t.equal(review.response.allowed, false);
  t.match(review.response.status?.message, /"debug" is not granted here/);
  t.same((await h.metrics.exemptions.get()).values, []);
  t.equal((await h.metrics.failures.get()).values.find((v) => v.labels.reason === 'pod-not-protected')?.value, 1);
});

t.test('Monitor: opting out needs no exemption and is not an exemption', async (t) => {
  const h = harness({ 'kubedlp.io/enforcement': 'monitor' });
  t.equal((await h.review(pod({ 'kubedlp.io/inject': 'disabled' }))).review.response.allowed, true);
  t.equal(h.events.length, 0);
});

const patchedInitNames = (b64: string | undefined) =>
  (JSON.parse(Buffer.from(b64 ?? '', 'base64').toString('utf8')) as { path: string; value: unknown }[])
    .filter((op) => op.path === '/spec/initContainers')
    .flatMap((op) => (op.value as { name: string }[]).map((c) => c.name));

t.test('capture defaults: transparent in Protect (and when the mode is not mirrored yet), the operator default in Monitor', async (t) => {
  for (const [labels, expected] of [
    [{ 'kubedlp.io/enforcement': 'protect' }, ['kube-dlp-init', 'kube-dlp-proxy']],
    [{}, ['kube-dlp-init', 'kube-dlp-proxy']],
    [{ 'kubedlp.io/enforcement': 'monitor' }, ['kube-dlp-proxy']],
  ] as const) {
    const { review } = await harness({ ...labels }).review(pod());
    t.same(patchedInitNames(review.response.patch), expected, JSON.stringify(labels));
  }
});
