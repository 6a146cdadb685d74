// The proxy-uid hole, closed, shown with real iptables in network namespaces.
// Transparent capture exempts the proxy's own connections by uid (the
// `--uid-owner` RETURN rule init-iptables writes): any process of the pod
// running as that uid goes out uninspected. With a fixed uid (1337) an image
// built with `USER 1337` did exactly that, unseen by admission, which reads
// the spec and not the image. Now the webhook draws the uid per pod
// (operator/inject/proxy-uid.ts): here the capture is installed with the init
// container's arguments exactly as the webhook renders them, the proxy runs
// as the sidecar's rendered uid, and a process running as 1337 (or any uid
// an image could name in advance) is captured: its card number is blocked.
// Nothing in the network tells the proxy from a process holding its uid (a
// socket mark would, but setting SO_MARK needs CAP_NET_ADMIN in the sidecar,
// which would let it rewrite the rules), so the uid stays the key: unknown to
// the image, refused in the spec, and not reachable at run time without
// CAP_SETUID (README, threat model). What the draw does not hide is shown
// too: a running process of the pod can read the uid from /proc/net/tcp.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTopology, INTERNET_V4, netnsUnavailableReason, type Topology } from '../../scripts/netns/topology';
import { watchJsonLines, type JsonLineWatcher } from '../../scripts/netns/json-lines';
import { unprivileged, type Unprivileged } from '../../scripts/netns/unprivileged';
import { DEFAULT_INJECTION_CONFIG, injectPod, type InjectionConfig } from '../../operator/inject/inject';
import { inProxyUidRange } from '../../operator/inject/proxy-uid';
import { loadTemplate } from '../../operator/inject/render-template';
import type { Container, Pod } from '../../operator/inject/pod';
import { podViolations, type SidecarIdentity } from '../../operator/admission-policy/pod-rules';
import { waitFor } from '../envtest/wait';

const ROOT = join(__dirname, '..', '..');
const NETNS = join(ROOT, 'scripts', 'netns');
/** The uid the proxy had before it was drawn per pod: what a hostile image would say in `USER`. */
const FORMER_PROXY_UID = 1337;
/** An ordinary app uid. */
const APP_UID = 1000;
const CARD = '4111 1111 1111 1111';

type Line = Record<string, any>;

const identity: SidecarIdentity = { image: 'registry.example/kube-dlp:test', command: ['kube-dlp'] };
const config: InjectionConfig = { ...DEFAULT_INJECTION_CONFIG, image: identity.image, command: identity.command, nativeSidecars: true };
const inject = (pod: Pod) => injectPod(pod, loadTemplate(), config, { tenant: 'acme', overrides: { captureMode: 'transparent', excludePorts: [], excludeCidrs: [] } });
const container = (pod: Pod, name: string): Container => [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name)!;
const appPod = (securityContext?: Record<string, unknown>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app' },
  spec: { containers: [{ name: 'app', image: 'app:1', ...(securityContext ? { securityContext } : {}) }] },
});

const profile = `apiVersion: kubedlp.io/v1alpha1
kind: RenderedProfile
profile: {name: proxy-uid, tenant: acme}
spec:
  mode: Protect
  egress:
    default: Allow
    uninspectable: Allow
`;
const tenants = `apiVersion: kubedlp.io/v1alpha1
kind: TenantDirectory
version: "1"
namespaces:
  - {name: team-a, tenant: acme}
`;

async function main(): Promise<void> {
  const unavailable = await netnsUnavailableReason();
  if (unavailable) {
    t.test('network namespace tests', { skip: `network namespaces unavailable: ${unavailable}` }, async () => undefined);
    return;
  }
  // The pod as the webhook admits it: its init container's arguments and its sidecar's uid are what runs below.
  const injected = inject(appPod());
  const proxyUid = (container(injected, 'kube-dlp-proxy').securityContext as { runAsUser: number }).runAsUser;
  const initArgs = (container(injected, 'kube-dlp-init').args as string[]).slice(1);
  t.ok(inProxyUidRange(proxyUid), `the webhook drew ${proxyUid} for this pod`);
  t.ok(initArgs.includes(`--proxy-uid=${proxyUid}`), 'and exempts that uid, not 1337');

  const topo = await createTopology('uid');
  t.teardown(() => topo.destroy());
  const dir = mkdtempSync(join(tmpdir(), 'kdlp-uid-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'profile.yaml'), profile, { mode: 0o644 });
  writeFileSync(join(dir, 'tenants.yaml'), tenants, { mode: 0o644 });

  const upstream = watchJsonLines<Line>(
    topo.spawn(topo.internet, ['node', join(NETNS, 'upstream.js'), JSON.stringify({ http: [{ name: 'web', host: INTERNET_V4, port: 8080 }] })]),
  );
  await upstream.waitFor((l) => l.event === 'listening', 'upstream listening');
  const init = await topo.run(topo.pod, ['node', join(NETNS, 'init-iptables.js'), ...initArgs]);
  if (init.code !== 0) throw new Error(`init-iptables ${initArgs.join(' ')} failed: ${init.stderr}`);

  const as = (uid: number) => unprivileged(ROOT, uid);
  const [asProxy, asFormer, asApp] = [as(proxyUid), as(FORMER_PROXY_UID), as(APP_UID)];
  t.teardown(() => [asProxy, asFormer, asApp].forEach((u) => u.remove()));
  await asProxy.probe(join(ROOT, 'dist', 'cli', 'main.js'));
  await asFormer.probe(join(NETNS, 'app.js'));

  const proxy = watchJsonLines<Line>(
    topo.spawn(topo.pod, asProxy.argv([
      'node', asProxy.path(join(ROOT, 'bin', 'kube-dlp.js')), 'proxy',
      '--mode', 'transparent',
      '--profile', join(dir, 'profile.yaml'),
      '--tenant-directory', join(dir, 'tenants.yaml'),
      '--namespace', 'team-a', '--tenant', 'acme', '--pod', 'app-0',
      '--admin', '127.0.0.1:15090',
      '--sniff-timeout', '10',
    ])),
  );
  const send = (who: Unprivileged, action: object) => runApp(topo, who.argv(['node', who.path(join(NETNS, 'app.js')), JSON.stringify(action)]));
  await waitReady((a) => send(asApp, a), proxy);

  const post = (path: string) => ({ kind: 'http', host: INTERNET_V4, port: 8080, method: 'POST', path, headers: { 'content-type': 'text/plain' }, body: `dump: ${CARD}` });
  const get = (path: string) => ({ kind: 'http', host: INTERNET_V4, port: 8080, path });
  const arrived = (path: string) => upstream.lines.some((l) => l.url === path);
  /** An allowed request sent afterwards by the same uid: anything the earlier one leaked has arrived by the time it does. */
  const settle = async (who: Unprivileged, tag: string) => {
    const r = await send(who, get(`/marker-${tag}`));
    if (r.status !== 200) throw new Error(`marker request failed: ${JSON.stringify(r)}`);
    await upstream.waitFor((l) => l.url === `/marker-${tag}`, `marker ${tag}`);
  };

  await t.test('a process running as 1337 (an image USER) is captured: its card number is blocked', async (t) => {
    const r = await send(asFormer, post('/as-1337'));
    t.equal(r.status, 403, 'the proxy answered');
    t.equal(JSON.parse(r.body).error, 'blocked');
    await proxy.waitFor((l) => l.requestId !== undefined && l.decision === 'blocked', 'the blocked audit line');
    await settle(asFormer, '1337');
    t.notOk(arrived('/as-1337'), 'the card never left the pod');
    const benign = await send(asFormer, get('/as-1337-benign'));
    t.equal(benign.status, 200);
    const line = await upstream.waitFor((l) => l.url === '/as-1337-benign', 'the benign request');
    t.match(line.via, /kube-dlp-/, 'forwarded by the proxy, so inspected');
  });

  await t.test('an ordinary app uid is captured the same way', async (t) => {
    const r = await send(asApp, post('/as-app'));
    t.equal(r.status, 403);
    await settle(asApp, 'app');
    t.notOk(arrived('/as-app'));
  });

  await t.test("the proxy's own connections, under the drawn uid, still go out", async (t) => {
    // Every forwarded request above is one: looped back into the proxy, it would not have arrived.
    t.ok(arrived('/as-1337-benign'), 'the proxy reached the upstream');
    const r = await send(asProxy, get('/as-proxy-uid'));
    t.equal(r.status, 200);
    const line = await upstream.waitFor((l) => l.url === '/as-proxy-uid', 'the exempt request');
    t.notMatch(line.via ?? '', /kube-dlp/, 'straight out: the exemption the draw keeps secret from images');
  });

  await t.test('what the draw does not hide: a running process of the pod can read the uid from /proc/net/tcp', async (t) => {
    // Containers of a pod share its network namespace, so its sockets, with
    // their owners, are listed to all of them; a process still needs
    // CAP_SETUID to take that uid (README, threat model).
    const r = await topo.run(topo.pod, asApp.argv(['cat', '/proc/net/tcp', '/proc/net/tcp6']));
    const owners = r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => /:3A99$/.test(f[1] ?? '') && f[3] === '0A')
      .map((f) => Number(f[7]));
    t.ok(owners.includes(proxyUid), `the socket listening on 15001 is listed as owned by ${proxyUid}`);
  });

  await t.test('without NET_ADMIN an app cannot rewrite the rules', async (t) => {
    const flush = await topo.run(topo.pod, asFormer.argv(['iptables', '-w', '5', '-t', 'nat', '-F']));
    t.not(flush.code, 0, 'iptables refuses');
    t.match(flush.stderr, /Permission denied|you must be root|Operation not permitted/i);
    const r = await send(asFormer, post('/after-flush'));
    t.equal(r.status, 403, 'still captured');
    await settle(asFormer, 'flush');
    t.notOk(arrived('/after-flush'));
  });

  await t.test('admission: the spec cannot ask for the drawn uid, and the draw avoids every uid the spec names', async (t) => {
    const namespace = { name: 'shop', labels: { 'kubedlp.io/injection': 'enabled', 'kubedlp.io/enforcement': 'protect' }, annotations: { 'kubedlp.io/inject': 'enabled' } };
    const violations = (p: Pod) => podViolations({ pod: p, namespace, username: 'system:serviceaccount:kube-system:replicaset-controller' }, identity);
    const asking = structuredClone(injected);
    container(asking, 'app').securityContext = { runAsUser: proxyUid };
    t.match(violations(asking).map((v) => v.message).join('\n'), new RegExp(`container\\(s\\) app run\\(s\\) as uid ${proxyUid}, the proxy's uid`));
    const named = inject(appPod({ runAsUser: proxyUid }));
    t.not((container(named, 'kube-dlp-proxy').securityContext as { runAsUser: number }).runAsUser, proxyUid, 'a uid the pod names is never drawn');
    t.same(violations(named), []);
    t.same(violations(inject(appPod({ runAsUser: FORMER_PROXY_UID }))), [], '1337 is an ordinary uid: admitted, and captured as shown above');
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

/** Polls /readyz from inside the pod (loopback is never captured) until the proxy answers 200. */
async function waitReady(app: (a: object) => Promise<Line>, proxy: JsonLineWatcher<Line>): Promise<void> {
  let exited: Error | undefined;
  proxy.waitFor(() => false, 'never').catch((err: Error) => (exited = err));
  const outcome = await waitFor(
    async () => exited ?? ((await app({ kind: 'http', host: '127.0.0.1', port: 15090, path: '/readyz', timeoutMs: 2000 })).status === 200 && 'ready'),
    { what: 'the proxy in the pod to answer /readyz with 200', timeoutMs: 120_000 },
  );
  if (outcome instanceof Error) throw outcome;
}

void main();
