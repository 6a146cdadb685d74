// The hole admission closes, shown with real iptables in network namespaces.
// Transparent capture exempts the proxy's own connections by uid (the
// `--uid-owner 1337` RETURN rule init-iptables writes), so any process of the
// pod running as uid 1337 leaves the pod uninspected. Nothing in the network
// can tell the proxy from an app that claims its uid: a socket mark would,
// but setting SO_MARK needs CAP_NET_ADMIN in the sidecar, which would let the
// proxy (or whoever compromises it) rewrite the very rules that capture the
// pod. So the uid stays the key and admission keeps every other container
// off it: the same pod spec is refused by the webhook's rule (and by the
// ValidatingAdmissionPolicy, test/integration/admission-policy.test.ts).
// Without NET_ADMIN (also refused at admission) an app cannot rewrite the
// rules either.
import t from 'tap';
import { join } from 'node:path';
import { createTopology, INTERNET_V4, netnsUnavailableReason, type Topology } from '../../scripts/netns/topology';
import { watchJsonLines } from '../../scripts/netns/json-lines';
import { PROXY_UID, unprivileged } from '../../scripts/netns/unprivileged';
import { DEFAULT_INJECTION_CONFIG, injectPod, type InjectionConfig } from '../../operator/inject/inject';
import { loadTemplate } from '../../operator/inject/render-template';
import type { Pod } from '../../operator/inject/pod';
import { podViolations, type SidecarIdentity } from '../../operator/admission-policy/pod-rules';

const ROOT = join(__dirname, '..', '..');
const NETNS = join(ROOT, 'scripts', 'netns');
/** Any uid but the proxy's: what an app container runs as once admission has had its say. */
const APP_UID = 1000;

type Line = Record<string, any>;

async function main(): Promise<void> {
  const unavailable = await netnsUnavailableReason();
  if (unavailable) {
    t.test('network namespace tests', { skip: `network namespaces unavailable: ${unavailable}` }, async () => undefined);
    return;
  }
  const topo = await createTopology('uid');
  t.teardown(() => topo.destroy());
  const upstream = watchJsonLines<Line>(
    topo.spawn(topo.internet, ['node', join(NETNS, 'upstream.js'), JSON.stringify({ http: [{ name: 'web', host: INTERNET_V4, port: 8080 }] })]),
  );
  await upstream.waitFor((l) => l.event === 'listening', 'upstream listening');
  const init = await topo.run(topo.pod, ['node', join(NETNS, 'init-iptables.js'), '--proxy-port', '15001', '--proxy-uid', String(PROXY_UID)]);
  if (init.code !== 0) throw new Error(`init-iptables failed: ${init.stderr}`);

  const asProxyUid = unprivileged(ROOT, PROXY_UID);
  const asApp = unprivileged(ROOT, APP_UID);
  t.teardown(() => {
    asProxyUid.remove();
    asApp.remove();
  });
  await asApp.probe(join(NETNS, 'app.js'));
  // No proxy listens on 15001: captured traffic is refused, so what arrives upstream went around the capture.
  const send = (as: typeof asApp, path: string) => runApp(topo, as.argv(['node', as.path(join(NETNS, 'app.js')), JSON.stringify({ kind: 'http', host: INTERNET_V4, port: 8080, path })]));
  const arrived = (path: string) => upstream.lines.some((l) => l.url === path);

  await t.test('an app as any uid but 1337 is captured: with no proxy listening, its egress is refused', async (t) => {
    t.equal((await send(asApp, '/as-app')).error, 'ECONNREFUSED');
    t.notOk(arrived('/as-app'), 'nothing arrived upstream');
  });

  await t.test('an app as uid 1337 bypasses the redirect: the hole admission closes', async (t) => {
    const r = await send(asProxyUid, '/as-proxy-uid');
    t.equal(r.status, 200, 'straight out, uninspected');
    const line = await upstream.waitFor((l) => l.url === '/as-proxy-uid', 'the bypassing request');
    t.notMatch(line.via ?? '', /kube-dlp/, 'no proxy on the way');
  });

  await t.test('without NET_ADMIN an app cannot rewrite the rules', async (t) => {
    const flush = await topo.run(topo.pod, asApp.argv(['iptables', '-w', '5', '-t', 'nat', '-F']));
    t.not(flush.code, 0, 'iptables refuses');
    t.match(flush.stderr, /Permission denied|you must be root|Operation not permitted/i);
    t.equal((await send(asApp, '/after-flush')).error, 'ECONNREFUSED', 'still captured');
    t.notOk(arrived('/after-flush'));
  });

  await t.test('the same pod spec is refused before it runs', async (t) => {
    const identity: SidecarIdentity = { image: 'registry.example/kube-dlp:test', command: ['kube-dlp'] };
    const config: InjectionConfig = { ...DEFAULT_INJECTION_CONFIG, image: identity.image, command: identity.command, nativeSidecars: true };
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bypass' },
      spec: { containers: [{ name: 'app', image: 'app:1', securityContext: { runAsUser: PROXY_UID } }] },
    };
    const injected = injectPod(pod, loadTemplate(), config, { tenant: 'acme', overrides: { captureMode: 'transparent', excludePorts: [], excludeCidrs: [] } });
    const namespace = { name: 'shop', labels: { 'kubedlp.io/injection': 'enabled', 'kubedlp.io/enforcement': 'protect' }, annotations: { 'kubedlp.io/inject': 'enabled' } };
    const facts = (p: Pod) => ({ pod: p, namespace, username: 'system:serviceaccount:kube-system:replicaset-controller' });
    t.match(podViolations(facts(injected), identity).map((v) => v.message).join('\n'), /container\(s\) app run\(s\) as uid 1337, the proxy's uid/);
    const addsNetAdmin = injectPod(
      { ...pod, spec: { containers: [{ name: 'app', image: 'app:1', securityContext: { capabilities: { add: ['NET_ADMIN'] } } }] } },
      loadTemplate(),
      config,
      { tenant: 'acme', overrides: { captureMode: 'transparent', excludePorts: [], excludeCidrs: [] } },
    );
    t.match(podViolations(facts(addsNetAdmin), identity).map((v) => v.message).join('\n'), /NET_ADMIN/);
    const plain = injectPod({ ...pod, spec: { containers: [{ name: 'app', image: 'app:1' }] } }, loadTemplate(), config, {
      tenant: 'acme',
      overrides: { captureMode: 'transparent', excludePorts: [], excludeCidrs: [] },
    });
    t.same(podViolations(facts(plain), identity), [], 'the same pod without the proxy uid is admitted');
  });
}

async function runApp(topo: Topology, argv: string[]): Promise<Line> {
  const r = await topo.run(topo.pod, argv);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Line;
  } catch {
    throw new Error(`app printed no result (exit ${r.code}): ${r.stderr.slice(-1000)}`);
  }
}

void main();
