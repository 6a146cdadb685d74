// The per-pod proxy uid: how the webhook draws it, and how the admission
// rules (the TypeScript side of pod-rules.ts; the CEL side runs on a real
// API server in test/integration/admission-policy.test.ts) tie the sidecar,
// the init container and the app containers to it.
import t from 'tap';
import { DEFAULT_INJECTION_CONFIG, injectPod, type InjectionConfig } from '../../operator/inject/inject';
import type { Container, Pod } from '../../operator/inject/pod';
import { idsNamedBy, inProxyUidRange, PROXY_UID_MAX, PROXY_UID_MIN, randomProxyUid } from '../../operator/inject/proxy-uid';
import { loadTemplate } from '../../operator/inject/render-template';
import { podViolations, type SidecarIdentity } from '../../operator/admission-policy/pod-rules';

const identity: SidecarIdentity = { image: 'registry.example/kube-dlp:test', command: ['kube-dlp'] };
const config: InjectionConfig = { ...DEFAULT_INJECTION_CONFIG, image: identity.image, command: identity.command, nativeSidecars: true };
const template = loadTemplate();
const namespace = { name: 'shop', labels: { 'kubedlp.io/injection': 'enabled', 'kubedlp.io/enforcement': 'protect' }, annotations: { 'kubedlp.io/inject': 'enabled' } };
const violations = (pod: Pod) => podViolations({ pod, namespace, username: 'system:serviceaccount:kube-system:replicaset-controller' }, identity);
const app = (spec: Partial<Pod['spec']> = {}): Pod => ({ metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'app:1' }], ...spec } });
const inject = (pod: Pod, mode: 'explicit' | 'transparent' = 'transparent', cfg = config) =>
  injectPod(pod, template, cfg, { tenant: 'acme', overrides: { captureMode: mode, excludePorts: [], excludeCidrs: [] } });
const container = (pod: Pod, name: string): Container => [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === name)!;
const proxyUid = (pod: Pod) => (container(pod, 'kube-dlp-proxy').securityContext as { runAsUser: number }).runAsUser;

t.test('drawn from the CSPRNG over the whole range', async (t) => {
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const uid = randomProxyUid(app());
    t.ok(inProxyUidRange(uid), `${uid} in [${PROXY_UID_MIN}, ${PROXY_UID_MAX}]`);
    seen.add(uid);
  }
  t.ok(seen.size >= 199, 'no value repeats in 200 draws (a fixed or narrow source would)');
  t.notOk(inProxyUidRange(1337));
  t.notOk(inProxyUidRange(0));
  t.notOk(inProxyUidRange(PROXY_UID_MIN - 1));
  t.notOk(inProxyUidRange(PROXY_UID_MAX + 1));
  t.notOk(inProxyUidRange('2000000'));
});

t.test('never a uid or gid the pod spec names', async (t) => {
  const pod = app({
    securityContext: { runAsUser: 2000001, runAsGroup: 2000002, fsGroup: 2000003, supplementalGroups: [2000004] },
    initContainers: [{ name: 'setup', securityContext: { runAsUser: 2000005 } }],
    containers: [{ name: 'app', securityContext: { runAsUser: 2000006, runAsGroup: 2000007 } }],
  });
  t.same([...idsNamedBy(pod)].sort(), [2000001, 2000002, 2000003, 2000004, 2000005, 2000006, 2000007]);
  let next = 2000001;
  const bounds: number[][] = [];
  t.equal(
    randomProxyUid(pod, (min, max) => {
      bounds.push([min, max]);
      return next++;
    }),
    2000008,
    'drawn again until free',
  );
  t.same(bounds[0], [PROXY_UID_MIN, PROXY_UID_MAX + 1], 'crypto.randomInt bounds: max exclusive');
  t.throws(() => randomProxyUid(pod, () => 2000001), /could not draw/, 'a broken source is an error, not a hang');
});

t.test('the webhook writes one drawn uid into the sidecar and the init container', async (t) => {
  const pod = inject(app(), 'transparent', { ...config, chooseProxyUid: () => 3000000 });
  t.match(container(pod, 'kube-dlp-proxy').securityContext, { runAsUser: 3000000, runAsGroup: 3000000 });
  t.ok((container(pod, 'kube-dlp-init').args as string[]).includes('--proxy-uid=3000000'));
  t.same(violations(pod), [], 'and the rules admit it');
  t.same(violations(inject(app(), 'explicit')), [], 'explicit mode: no init container, the sidecar alone');
});

t.test('a uid in the request is replaced: a pod written to look injected gets a uid its author did not choose', async (t) => {
  // Its app has no runAsUser in the spec: its image says USER 1500000.
  const authored = inject(app(), 'transparent', { ...config, chooseProxyUid: () => 1500000 });
  const admitted = inject(authored, 'transparent', { ...config, chooseProxyUid: () => 1700000 });
  t.equal(proxyUid(admitted), 1700000);
  t.ok((container(admitted, 'kube-dlp-init').args as string[]).includes('--proxy-uid=1700000'));
  t.notOk(JSON.stringify(admitted).includes('1500000'), 'nothing of the chosen uid is left');
});

t.test('rules: no app, init or ephemeral container runs as the sidecar uid', async (t) => {
  const pod = inject(app());
  const uid = proxyUid(pod);
  const onContainer = structuredClone(pod);
  onContainer.spec.containers.find((c) => c.name === 'app')!.securityContext = { runAsUser: uid };
  t.match(violations(onContainer)[0]?.message, `container(s) app run(s) as uid ${uid}, the proxy's uid`);
  const onPod = structuredClone(pod);
  onPod.spec.securityContext = { runAsUser: uid };
  t.match(violations(onPod)[0]?.message, `run(s) as uid ${uid}`);
  const ephemeral = structuredClone(pod);
  (ephemeral.spec as { ephemeralContainers?: Container[] }).ephemeralContainers = [{ name: 'debug', securityContext: { runAsUser: uid } }];
  t.match(violations(ephemeral)[0]?.message, `ephemeral container(s) debug run(s) as uid ${uid}`);
  const fixedUid = structuredClone(pod);
  fixedUid.spec.containers.find((c) => c.name === 'app')!.securityContext = { runAsUser: 1337 };
  t.same(violations(fixedUid), [], 'uid 1337 is just another uid now');
});

t.test('rules: the sidecar uid must be in the range and the init container must exempt that uid and nothing else', async (t) => {
  const pod = inject(app());
  const uid = proxyUid(pod);
  const setUid = (p: Pod, proxy: number, init: number) => {
    (container(p, 'kube-dlp-proxy').securityContext as { runAsUser: number }).runAsUser = proxy;
    const c = container(p, 'kube-dlp-init');
    c.args = (c.args as string[]).map((a) => (a.startsWith('--proxy-uid=') ? `--proxy-uid=${init}` : a));
    return p;
  };
  t.match(violations(setUid(structuredClone(pod), 1337, 1337))[0], { id: 'sidecar-forged' }, 'the old fixed uid is out of the range');
  t.match(violations(setUid(structuredClone(pod), 0, 0))[0], { id: 'sidecar-forged' }, 'root would exempt every root process');
  t.match(violations(setUid(structuredClone(pod), uid, uid + 1))[0], { id: 'init-forged' }, 'the init container exempts another uid');
  t.same(violations(setUid(structuredClone(pod), 1500000, 1500000)), [], 'any consistent uid in the range passes the rules (the webhook is what makes it unpredictable)');
  for (const extra of ['--proxy-gid=0', '--dry-run', '--remove', '--ipv6=off', '--inbound=*', '--proxy-port=15002', `--proxy-uid=${uid}`]) {
    const p = structuredClone(pod);
    (container(p, 'kube-dlp-init').args as string[]).push(extra);
    const v = violations(p)[0];
    t.match(v, { id: 'init-forged' }, `${extra} is refused`);
    t.match(v?.message, /no flags but --proxy-port=15001, --admin-port=15090/);
  }
  for (const allowed of ['--iptables=nft', '--ipv6=on']) {
    const p = structuredClone(pod);
    (container(p, 'kube-dlp-init').args as string[]).push(allowed);
    t.same(violations(p), [], `${allowed} still captures everything`);
  }
});
