// The webhook's handler and HTTPS server, over a real TLS socket: body cap
// (413), media type (415), method and path, undecodable reviews (400), the
// request UID echoed, exceptions answered per failure policy and counted, and
// a certificate swapped while serving.
import t, { type Test } from 'tap';
import https from 'node:https';
import { Registry } from 'prom-client';
import { createCertificateAuthority, issueServingCertificate, type KeyPair } from '../../operator/certs/issue-certificates';
import { DEFAULT_INJECTION_CONFIG } from '../../operator/inject/inject';
import { strictest } from '../../operator/inject/profile-allowances';
import { loadTemplate } from '../../operator/inject/render-template';
import { silentLogger } from '../../operator/kube/logger';
import { InjectionHandler, type FailurePolicy, type InjectionHandlerOptions } from '../../operator/webhook/handler';
import { METRIC_NAMES, WebhookMetrics } from '../../operator/webhook/metrics';
import { WebhookServer } from '../../operator/webhook/server';

const review = (request: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const podRequest = (uid: string, namespace = 'shop') => ({
  uid,
  kind: { group: '', version: 'v1', kind: 'Pod' },
  namespace,
  operation: 'CREATE',
  object: { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } },
});

function handler(metrics: WebhookMetrics, over: Partial<InjectionHandlerOptions> = {}): InjectionHandler {
  return new InjectionHandler({
    template: loadTemplate(),
    config: { ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: true },
    defaultCaptureMode: 'explicit',
    optIn: { operatorNamespace: 'kube-dlp-system' },
    failurePolicy: 'Fail',
    namespaces: { namespace: async (name) => ({ name, uid: 'u', labels: {}, annotations: { 'kubedlp.io/inject': 'enabled' }, terminating: false }) },
    allowances: { allowances: async () => strictest('test') },
    metrics,
    log: silentLogger,
    ...over,
  });
}

const value = async (metrics: WebhookMetrics, name: 'requests' | 'failures' | 'skips', label: string) =>
  (await metrics[name].get()).values.find((v) => Object.values(v.labels).includes(label))?.value ?? 0;

t.test('every metric is registered under its exported name', async (t) => {
  const registry = new Registry();
  new WebhookMetrics(registry);
  t.same(registry.getMetricsAsArray().map((m) => m.name).sort(), [...METRIC_NAMES].sort());
});

t.test('the answer echoes the request uid and carries a base64 JSON Patch', async (t) => {
  const metrics = new WebhookMetrics(new Registry());
  const { review: out, result } = await handler(metrics).review(review(podRequest('uid-123')));
  t.equal(result, 'injected');
  t.equal(out.response.uid, 'uid-123');
  t.equal(out.response.patchType, 'JSONPatch');
  const ops = JSON.parse(Buffer.from(out.response.patch!, 'base64').toString('utf8')) as { path: string }[];
  t.ok(ops.some((o) => o.path === '/spec/initContainers'));
  t.equal(await value(metrics, 'requests', 'injected'), 1);
  t.equal((await metrics.injections.get()).values[0]?.value, 1);
});

for (const policy of ['Fail', 'Ignore'] as FailurePolicy[]) {
  t.test(`an exception under failurePolicy ${policy}: ${policy === 'Fail' ? 'refused with the message' : 'admitted unchanged with a warning'}, counted`, async (t) => {
    const metrics = new WebhookMetrics(new Registry());
    const h = handler(metrics, {
      failurePolicy: policy,
      namespaces: {
        namespace: async () => {
          throw new Error('cache exploded');
        },
      },
    });
    const { review: out, result } = await h.review(review(podRequest('uid-err')));
    t.equal(result, 'error');
    t.equal(out.response.uid, 'uid-err');
    t.equal(out.response.patch, undefined);
    if (policy === 'Fail') {
      t.equal(out.response.allowed, false);
      t.match(out.response.status, { code: 500, message: /sidecar injection failed: cache exploded/ });
    } else {
      t.equal(out.response.allowed, true);
      t.match(out.response.warnings, [/cache exploded; admitted without the sidecar/]);
    }
    t.equal(await value(metrics, 'failures', 'internal'), 1);
    t.equal(await value(metrics, 'requests', 'error'), 1);
  });
}

t.test('skips are counted by reason', async (t) => {
  const metrics = new WebhookMetrics(new Registry());
  const h = handler(metrics);
  await h.review(review({ ...podRequest('a'), operation: 'UPDATE' }));
  await h.review(review({ ...podRequest('b'), namespace: 'kube-system' }));
  t.equal(await value(metrics, 'skips', 'not-a-pod'), 1);
  t.equal(await value(metrics, 'skips', 'namespace-not-opted-in'), 1);
  t.equal(await value(metrics, 'requests', 'skipped'), 2);
});

let pki: { ca: KeyPair; serving: KeyPair; ca2: KeyPair; serving2: KeyPair } | undefined;
async function certs() {
  if (pki) return pki;
  const ca = await createCertificateAuthority('webhook-test-ca', 1);
  const ca2 = await createCertificateAuthority('webhook-test-ca-2', 1);
  const req = { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 1 };
  pki = { ca, serving: await issueServingCertificate(ca, req), ca2, serving2: await issueServingCertificate(ca2, req) };
  return pki;
}

async function serve(t: Test, maxBodyBytes?: number) {
  const p = await certs();
  const metrics = new WebhookMetrics(new Registry());
  const server = new WebhookServer({ handler: handler(metrics), metrics, log: silentLogger, identity: p.serving, maxBodyBytes });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => server.close());
  const send = (opts: { path?: string; method?: string; type?: string; body?: string | Buffer; ca?: string }) =>
    new Promise<{ status: number; body: string; fingerprint?: string }>((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: opts.path ?? '/inject', method: opts.method ?? 'POST', ca: opts.ca ?? p.ca.certPem, headers: opts.type === undefined ? {} : { 'content-type': opts.type }, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  return { server, metrics, send, pki: p, port };
}

t.test('HTTP: 200 with an AdmissionReview; 404, 405, 415, 413, 400 otherwise, each counted', async (t) => {
  const { send, metrics } = await serve(t, 64 * 1024);
  const ok = await send({ type: 'application/json; charset=utf-8', body: JSON.stringify(review(podRequest('uid-http'))) });
  t.equal(ok.status, 200);
  t.equal(JSON.parse(ok.body).response.uid, 'uid-http');
  t.equal((await send({ path: '/other', type: 'application/json', body: '{}' })).status, 404);
  t.equal((await send({ method: 'GET' })).status, 405);
  t.equal((await send({ type: 'application/yaml', body: 'a: 1' })).status, 415);
  t.equal((await send({ body: '{}' })).status, 415, 'no content type');
  t.equal((await send({ type: 'application/json', body: Buffer.alloc(200 * 1024, 0x20) })).status, 413);
  t.equal((await send({ type: 'application/json', body: '{not json' })).status, 400);
  const noUid = await send({ type: 'application/json', body: JSON.stringify(review({ kind: { kind: 'Pod' } })) });
  t.equal(noUid.status, 400);
  t.match(noUid.body, /request.uid is missing/);
  t.equal((await send({ type: 'application/json', body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }) })).status, 400);
  for (const reason of ['not-found', 'method-not-allowed', 'unsupported-media-type', 'body-too-large', 'bad-request']) {
    t.ok((await value(metrics, 'failures', reason)) >= 1, reason);
  }
  t.equal((await metrics.duration.get()).values.find((v) => v.metricName === 'kubedlp_webhook_duration_seconds_count')?.value, 9, 'every request timed');
});

t.test('a chunked body (no content-length) over the cap is refused with 413 too', async (t) => {
  const { port, pki: p, metrics } = await serve(t, 1024);
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/inject', method: 'POST', ca: p.ca.certPem, headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    // Written in pieces: Node sends it chunked, so the server only learns the size by reading.
    for (let i = 0; i < 8; i++) req.write(Buffer.alloc(512, 0x20));
    req.end();
  });
  t.equal(status, 413);
  t.equal(await value(metrics, 'failures', 'body-too-large'), 1);
});

t.test('a new serving certificate is used for new connections', async (t) => {
  const { server, send, pki: p } = await serve(t);
  const body = JSON.stringify(review(podRequest('uid-a')));
  t.equal((await send({ type: 'application/json', body })).status, 200, 'trusted with the first CA');
  server.setIdentity(p.serving2);
  t.equal((await send({ type: 'application/json', body, ca: p.ca2.certPem })).status, 200, 'trusted with the second CA');
  await t.rejects(send({ type: 'application/json', body, ca: p.ca.certPem }), 'the first CA no longer verifies it');
});
