// The operator's proposal on a real control plane (kube-apiserver + etcd):
// opted-in Monitor namespace, injected pods, a real sidecar that saw traffic
// with planted secrets. Pods in envtest have no kubelet, so their status is
// patched with a pod IP (127.0.0.1) and the collector's address resolver
// maps each pod to a port on loopback: one pod to the real sidecar's admin
// port, one to a port where nothing listens (it must be skipped and
// counted). Then `kube-dlp profile suggest --namespace` reads the proposal
// and its output is accepted by the API server (CRD schema and CEL rules).
import t from 'tap';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ProposalCollector } from '../../operator/discover/proposal-collector';
import { PODS, SECURITY_PROFILE_PROPOSALS } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { silentLogger } from '../../operator/kube/logger';
import { applyProfile, createNamespace, ROOT, securityProfile, startTestPlane, type TestPlane } from './operator-harness';
import { CARD, CARD_DIGITS, EMAIL, request, startTestProxy, startUpstream, type TestProxy, type Upstream } from './proxy-harness';
import { listen } from '../../proxy/http/listen';

const BIN = join(ROOT, 'bin', 'kube-dlp.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A loopback port with nothing listening: bind, note it, close. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await listen(s, { host: '127.0.0.1', port: 0 });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function injectedPod(tp: TestPlane, namespace: string, name: string): Promise<void> {
  await tp.admin.create(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: { 'kubedlp.io/injected': 'true' } },
      spec: { containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
    } as KubeObject,
    namespace,
  );
  await tp.admin.mergePatch(PODS, name, namespace, { status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }, 'status');
}

let tp: TestPlane;
let proxy: TestProxy;
let upstreams: Upstream[];
t.before(async () => {
  tp = await startTestPlane();
  upstreams = await Promise.all([startUpstream(), startUpstream()]);
});
t.teardown(async () => {
  await proxy?.stop();
  await Promise.all(upstreams.map((u) => u.close()));
  await tp?.stop();
});

t.test('Monitor namespace: the collector writes a proposal; suggest --namespace prints what the API server accepts', async (t) => {
  const shop = await createNamespace(tp.admin, 'shop', { 'kubedlp.io/inject': 'enabled' });
  const locked = await createNamespace(tp.admin, 'locked', { 'kubedlp.io/inject': 'enabled' });
  await createNamespace(tp.admin, 'bystander');
  await applyProfile(tp.admin, securityProfile(shop, 'default', { mode: 'Monitor' }));
  await applyProfile(tp.admin, securityProfile(locked, 'default', { mode: 'Protect', egress: { default: 'Deny', allow: [{ host: 'a.example' }] } }));

  proxy = await startTestProxy(
    `apiVersion: kubedlp.io/v1alpha1\nkind: SecurityProfile\nmetadata: { name: default, namespace: ${shop} }\nspec:\n  mode: Monitor\n`,
    { identity: { pod: 'web-1', namespace: shop, tenant: shop } },
  );
  const [pay, mail] = upstreams as [Upstream, Upstream];
  for (let i = 0; i < 2; i++) {
    t.equal((await request(proxy.port, { method: 'POST', path: `http://127.0.0.1:${pay.port}/v1/charge`, body: `card=${CARD}` })).status, 200);
  }
  t.equal((await request(proxy.port, { method: 'POST', path: `http://127.0.0.1:${mail.port}/send`, body: `to=${EMAIL}` })).status, 200);

  await injectedPod(tp, shop, 'web-1');
  await injectedPod(tp, shop, 'web-2');
  await injectedPod(tp, locked, 'api-1');
  const dead = await closedPort();
  const resolved: string[] = [];
  const collector = new ProposalCollector({
    client: tp.admin,
    log: silentLogger,
    operatorNamespace: 'kube-dlp-system',
    concurrency: 2,
    timeoutMs: 2000,
    adminUrl: (pod) => {
      const ip = (pod.status as { podIP: string }).podIP;
      resolved.push(`${pod.metadata.name}@${ip}`);
      return `http://${ip}:${pod.metadata.name === 'web-1' ? proxy.adminPort : dead}`;
    },
  });
  const outcomes = await collector.collectAll();
  t.same(resolved.sort(), ['web-1@127.0.0.1', 'web-2@127.0.0.1'], 'only the Monitor namespace is collected, from the pod IPs the API server holds');
  t.same(outcomes.find((o) => o.namespace === shop), { namespace: shop, outcome: 'written', stats: { pods: 2, answered: 1, skipped: 1 } });
  t.match(outcomes.find((o) => o.namespace === locked), { outcome: 'skipped', reason: /Protect mode/ });
  t.notOk(outcomes.some((o) => o.namespace.startsWith('bystander')), 'namespaces not opted in are left alone');

  const proposal = await tp.admin.get(SECURITY_PROFILE_PROPOSALS, 'observed', shop);
  const text = JSON.stringify(proposal);
  for (const secret of [CARD, CARD_DIGITS, EMAIL, '/v1/charge', '/send']) t.notOk(text.includes(secret), `no ${secret} in the proposal`);
  const spec = proposal.spec as { profile: { egress: { default: string; allow: unknown[] }; detectors: { overrides: unknown[] } }; evidence: { egress: string[] }; observed: Record<string, unknown> };
  t.equal(spec.profile.egress.default, 'Deny');
  t.same(spec.profile.egress.allow, [{ cidr: '127.0.0.1/32', ports: [pay.port, mail.port].sort((a, b) => a - b) }]);
  t.same(spec.profile.detectors.overrides, [
    { id: 'pci.card-number', action: 'block' },
    { id: 'pii.email', action: 'redact' },
  ]);
  t.match(spec.evidence.egress[0], /^seen: 3 requests \(POST 3\) from 1 pod/);
  t.match(spec.observed, { pods: 2, answered: 1, skipped: 1, sources: 1, requests: 3 });

  const r = await cli(['profile', 'suggest', '--namespace', shop, '--kubeconfig', tp.plane.kubeconfigPath, '--name', 'learned']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /# seen: 3 requests \(POST 3\) from 1 pod/);
  const manifest = parse(r.stdout) as KubeObject;
  const stored = await applyProfile(tp.admin, manifest);
  t.equal(stored.metadata.name, 'learned', 'the API server accepts the suggestion (schema and CEL rules)');
  t.match(stored.spec, { mode: 'Protect', egress: { default: 'Deny' } });

  const missing = await cli(['profile', 'suggest', '--namespace', locked, '--kubeconfig', tp.plane.kubeconfigPath]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /no SecurityProfileProposal "observed" in namespace locked-/);
});

t.test('the sidecar suggestion via --from is accepted by the API server too', async (t) => {
  const r = await cli(['profile', 'suggest', '--from', `http://127.0.0.1:${proxy.adminPort}`, '--name', 'from-sidecar', '--mode', 'Monitor']);
  t.equal(r.code, 0, r.stderr);
  const stored = await applyProfile(tp.admin, parse(r.stdout) as KubeObject);
  t.match(stored.spec, { mode: 'Monitor', egress: { default: 'Deny' } });
});
