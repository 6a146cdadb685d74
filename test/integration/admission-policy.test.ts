// The ValidatingAdmissionPolicy on a real kube-apiserver, with NO webhook and
// NO operator running: the API server evaluates the CEL itself, which is what
// keeps an opted-in namespace protected while the operator is down. Every
// hostile attempt of issue #16 is a pod create (dry run: admission runs in
// full, nothing is stored) refused with the message that says what to change;
// pods as the webhook injects them, and exempt pods, are admitted. Each
// refusal is also compared with the webhook's own check (pod-rules.ts), so the
// two enforcers cannot drift apart.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { getControlPlane, newNamespace, waitFor } from '../envtest';
import { KubeClient } from '../../operator/kube/client';
import { KubeApiError } from '../../operator/errors';
import { NAMESPACES, VALIDATING_ADMISSION_POLICIES, VALIDATING_ADMISSION_POLICY_BINDINGS } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { DEFAULT_INJECTION_CONFIG, injectPod, type InjectionConfig } from '../../operator/inject/inject';
import { loadTemplate } from '../../operator/inject/render-template';
import type { Pod } from '../../operator/inject/pod';
import { podViolations, type SidecarIdentity } from '../../operator/admission-policy/pod-rules';
import { desiredAdmissionPolicy, desiredAdmissionPolicyBinding } from '../../operator/admission-policy/validating-policy';

const SUITE_LABEL = 'kube-dlp.test/vap-suite';
const suite = randomBytes(4).toString('hex');
const POLICY = `kube-dlp-pod-protection-test-${suite}`;
const identity: SidecarIdentity = { image: 'registry.example/kube-dlp:test', command: ['kube-dlp'] };
const config: InjectionConfig = { ...DEFAULT_INJECTION_CONFIG, image: identity.image, command: identity.command, nativeSidecars: true };
const template = loadTemplate();

const setup = (async () => {
  const plane = await getControlPlane();
  const client = await KubeClient.create(plane.kubeConfig);
  await client.create(VALIDATING_ADMISSION_POLICIES, desiredAdmissionPolicy({ identity, name: POLICY }));
  await client.create(
    VALIDATING_ADMISSION_POLICY_BINDINGS,
    desiredAdmissionPolicyBinding({ operatorNamespace: 'kube-dlp-system', name: POLICY, policyName: POLICY, extraNamespaceLabels: { [SUITE_LABEL]: suite } }),
  );
  return { client, kubeConfig: plane.kubeConfig };
})();
setup.catch(() => {});

t.teardown(async () => {
  const s = await setup.catch(() => undefined);
  if (!s) return;
  await s.client.delete(VALIDATING_ADMISSION_POLICY_BINDINGS, POLICY).catch(() => {});
  await s.client.delete(VALIDATING_ADMISSION_POLICIES, POLICY).catch(() => {});
  s.client.close();
});

interface Ns {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** A namespace labelled as the operator labels an opted-in one (the operator itself is not running). */
async function optedIn(mode: 'protect' | 'monitor', annotations: Record<string, string> = {}): Promise<Ns> {
  const { client, kubeConfig } = await setup;
  const name = await newNamespace(kubeConfig, `kdlp-vap-${mode}`);
  const labels = { 'kubedlp.io/injection': 'enabled', 'kubedlp.io/enforcement': mode, [SUITE_LABEL]: suite };
  await client.mergePatch(NAMESPACES, name, undefined, { metadata: { labels, annotations: { 'kubedlp.io/inject': 'enabled', ...annotations } } });
  return { name, labels, annotations };
}

const app = (name: string, meta: Partial<Pod['metadata']> = {}, spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, ...meta },
  spec: { containers: [{ name: 'app', image: 'app:1' }], ...spec },
});

/** The pod as the webhook would admit it (same template, same code). */
const injected = (pod: Pod, mode: 'explicit' | 'transparent' = 'transparent'): Pod =>
  injectPod(pod, template, config, { tenant: 'acme', overrides: { captureMode: mode, excludePorts: [], excludeCidrs: [] } });

/** undefined when admitted, else the API server's message. */
async function create(ns: Ns, pod: Pod): Promise<string | undefined> {
  const { client } = await setup;
  try {
    await client.request('POST', `/api/v1/namespaces/${ns.name}/pods`, { query: { dryRun: 'All' }, body: pod as KubeObject });
    return undefined;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 403) return err.apiMessage;
    throw err;
  }
}

/** The webhook's verdict on the same pod: the first violated rule's message. */
const webhookVerdict = (ns: Ns, pod: Pod): string | undefined =>
  podViolations({ pod, namespace: ns, username: 'system:serviceaccount:kube-system:replicaset-controller' }, identity)[0]?.message;

async function refused(t: Test, ns: Ns, pod: Pod, expected: RegExp): Promise<void> {
  const message = await create(ns, pod);
  t.match(message, expected, 'the API server refuses it and says what to change');
  const ours = webhookVerdict(ns, pod);
  t.match(ours, expected, 'the webhook refuses it with the same rule');
  t.ok(message?.includes(ours ?? '\u0000'), 'with the same words');
}

async function admitted(t: Test, ns: Ns, pod: Pod): Promise<void> {
  t.equal(await create(ns, pod), undefined, 'the API server admits it');
  t.equal(webhookVerdict(ns, pod), undefined, 'the webhook admits it too');
}

t.before(async () => {
  // The policy is live once a pod without the sidecar is refused (the API server picks bindings up a moment later).
  const ns = await optedIn('protect');
  await waitFor(async () => (await create(ns, app('probe'))) !== undefined, { what: 'the policy to be enforced', timeoutMs: 30_000 });
});

t.test('Protect: a pod without the sidecar is refused (the webhook is not running)', async (t) => {
  await refused(t, await optedIn('protect'), app('plain'), /has no kube-dlp sidecar.*requires one/);
});

t.test('Protect: a pod cannot opt itself out, by label or annotation', async (t) => {
  const ns = await optedIn('protect');
  await refused(t, ns, app('by-label', { labels: { 'kubedlp.io/inject': 'disabled' } }), /is in Protect mode, where a pod cannot opt itself out/);
  await refused(t, ns, app('by-annotation', { annotations: { 'kubedlp.io/inject': 'disabled' } }), /cannot opt itself out/);
  await refused(
    t,
    ns,
    app('claims', { labels: { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/exemption': 'debug' } }),
    /kubedlp.io\/exemption "debug" is not granted here/,
  );
});

t.test('Protect: an exemption granted on the namespace (by the operator, from the profile) admits the opted-out pod', async (t) => {
  const ns = await optedIn('protect', { 'exemption.kubedlp.io/debug': 'SRE debugging tools' });
  await admitted(t, ns, app('exempt', { labels: { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/exemption': 'debug' } }));
  await refused(
    t,
    ns,
    app('other', { labels: { 'kubedlp.io/inject': 'disabled', 'kubedlp.io/exemption': 'other' } }),
    /"other" is not granted here/,
  );
  await refused(t, ns, app('label-only', { labels: { 'kubedlp.io/exemption': 'debug' } }), /has no kube-dlp sidecar/);
});

t.test('Monitor: a pod may opt out, but a pod that does not must carry the sidecar', async (t) => {
  const ns = await optedIn('monitor');
  await admitted(t, ns, app('out', { labels: { 'kubedlp.io/inject': 'disabled' } }));
  await refused(t, ns, app('plain'), /has no kube-dlp sidecar/);
});

t.test('pods as the webhook injects them are admitted, in both capture modes', async (t) => {
  const ns = await optedIn('protect');
  await admitted(t, ns, injected(app('transparent')));
  await admitted(t, ns, injected(app('explicit'), 'explicit'));
});

t.test('a forged injection status with a dummy kube-dlp-proxy container is refused', async (t) => {
  const ns = await optedIn('protect');
  const forged = app('forged', { annotations: { 'kubedlp.io/sidecar-status': '{"mode":"explicit","native":false,"containers":["kube-dlp-proxy","app"],"initContainers":[]}' } });
  forged.spec.containers.unshift({ name: 'kube-dlp-proxy', image: 'busybox', command: ['sleep', 'infinity'] });
  await refused(t, ns, forged, /container kube-dlp-proxy is not the kube-dlp sidecar.*remove that container/);

  // The real image with the command swapped for a shell is not the sidecar either.
  const shell = injected(app('shell'));
  const proxy = shell.spec.initContainers!.find((c) => c.name === 'kube-dlp-proxy')!;
  proxy.command = ['sh', '-c'];
  await refused(t, ns, shell, /is not the kube-dlp sidecar/);

  // Nor is the real proxy reading a profile of the pod's choosing.
  const ownProfile = injected(app('own-profile'));
  ownProfile.spec.volumes!.find((v) => v.name === 'kube-dlp-profile')!.configMap = { name: 'my-permissive-profile' };
  await refused(t, ns, ownProfile, /is not the kube-dlp sidecar/);

  const init = injected(app('init'));
  init.spec.initContainers!.find((c) => c.name === 'kube-dlp-init')!.args = ['init-iptables', '--proxy-uid=0'];
  await refused(t, ns, init, /kube-dlp-init is not kube-dlp's capture init container/);

  // The real proxy told to read a second profile of the pod's choosing (the last flag wins).
  const second = injected(app('second-profile'));
  (second.spec.initContainers!.find((c) => c.name === 'kube-dlp-proxy')!.args as string[]).push('--profile=/tmp/allow-all.yaml');
  await refused(t, ns, second, /is not the kube-dlp sidecar/);

  // Exclusions written into the init container by hand, not granted through the (profile-checked) annotations.
  const excluded = injected(app('excluded'));
  (excluded.spec.initContainers!.find((c) => c.name === 'kube-dlp-init')!.args as string[]).push('--exclude-cidrs=0.0.0.0/0');
  await refused(t, ns, excluded, /excluding only what the pod's kubedlp.io\/exclude-outbound-\* annotations say/);
});

t.test('exclusions that come from the pod annotations, as the webhook renders them, are admitted', async (t) => {
  const ns = await optedIn('protect');
  const pod = app('db-client', { annotations: { 'kubedlp.io/exclude-outbound-ports': '5432, 6379' } });
  const withExclusions = injectPod(pod, template, config, {
    tenant: 'acme',
    overrides: { captureMode: 'transparent', excludePorts: [], excludeCidrs: [], excludePortsText: '5432,6379' },
  });
  t.ok((withExclusions.spec.initContainers!.find((c) => c.name === 'kube-dlp-init')!.args as string[]).includes('--exclude-ports=5432,6379'));
  await admitted(t, ns, withExclusions);
});

/** The uid the webhook drew for an injected pod (its sidecar's runAsUser). */
const proxyUidOf = (pod: Pod): number =>
  ([...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((c) => c.name === 'kube-dlp-proxy')!.securityContext as { runAsUser: number }).runAsUser;

t.test("an app container running as the sidecar's uid is refused, whether set on the container or the pod", async (t) => {
  const ns = await optedIn('protect');
  const onContainer = injected(app('uid'));
  const uid = proxyUidOf(onContainer);
  onContainer.spec.containers[0]!.securityContext = { runAsUser: uid };
  await refused(t, ns, onContainer, new RegExp(`container\\(s\\) app run\\(s\\) as uid ${uid}, the proxy's uid.*set securityContext.runAsUser`));

  const onPod = injected(app('pod-uid'));
  onPod.spec.securityContext = { runAsUser: proxyUidOf(onPod) };
  await refused(t, ns, onPod, new RegExp(`container\\(s\\) app run\\(s\\) as uid ${proxyUidOf(onPod)}`));

  const overridden = injected(app('overridden'));
  overridden.spec.securityContext = { runAsUser: proxyUidOf(overridden) };
  overridden.spec.containers[0]!.securityContext = { runAsUser: 1000 };
  await admitted(t, ns, overridden);

  // 1337, the proxy's uid before it was drawn per pod, is an ordinary uid now.
  const former = injected(app('former-uid'));
  former.spec.containers[0]!.securityContext = { runAsUser: 1337 };
  await admitted(t, ns, former);
});

t.test('the sidecar and the init container agree on one uid in the range, and the init container exempts nothing else', async (t) => {
  const ns = await optedIn('protect');
  const setUid = (pod: Pod, proxy: number, init: number): Pod => {
    const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
    (all.find((c) => c.name === 'kube-dlp-proxy')!.securityContext as { runAsUser: number }).runAsUser = proxy;
    const c = all.find((c) => c.name === 'kube-dlp-init')!;
    c.args = (c.args as string[]).map((a) => (a.startsWith('--proxy-uid=') ? `--proxy-uid=${init}` : a));
    return pod;
  };
  await refused(t, ns, setUid(injected(app('fixed')), 1337, 1337), /container kube-dlp-proxy is not the kube-dlp sidecar.*as the uid the webhook chose for the pod, between 1048576 and 2147483646/);
  await refused(t, ns, setUid(injected(app('root')), 0, 0), /is not the kube-dlp sidecar/);
  const drawn = injected(app('mismatch'));
  await refused(t, ns, setUid(drawn, proxyUidOf(drawn), proxyUidOf(drawn) + 1), /kube-dlp-init is not kube-dlp's capture init container.*--proxy-uid= the kube-dlp-proxy container's runAsUser/);
  await admitted(t, ns, setUid(injected(app('consistent')), 1500000, 1500000));
  for (const [name, extra] of [['gid', '--proxy-gid=0'], ['dry-run', '--dry-run'], ['ipv6-off', '--ipv6=off'], ['inbound', '--inbound=*']]) {
    const pod = injected(app(`flag-${name}`));
    (pod.spec.initContainers!.find((c) => c.name === 'kube-dlp-init')!.args as string[]).push(extra!);
    await refused(t, ns, pod, /kube-dlp-init is not kube-dlp's capture init container.*and no flags but --proxy-port=15001/);
  }
  const nft = injected(app('flag-nft'));
  (nft.spec.initContainers!.find((c) => c.name === 'kube-dlp-init')!.args as string[]).push('--iptables=nft');
  await admitted(t, ns, nft);
});

t.test('an app container adding NET_ADMIN or NET_RAW, or privileged, is refused', async (t) => {
  const ns = await optedIn('protect');
  const capabilities = ['NET_ADMIN', 'NET_RAW', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'BPF', 'sys_admin'].map((cap) => ({ capabilities: { add: [cap] } }));
  for (const securityContext of [...capabilities, { privileged: true }]) {
    const pod = injected(app('caps'));
    pod.spec.containers[0]!.securityContext = securityContext;
    await refused(t, ns, pod, /container\(s\) app add\(s\) NET_ADMIN or NET_RAW \(or SYS_ADMIN, SYS_PTRACE, SYS_MODULE, BPF, or run privileged\)/);
  }
  const own = injected(app('own-init'));
  own.spec.initContainers!.push({ name: 'setup', image: 'tools:1', securityContext: { capabilities: { add: ['NET_ADMIN'] } } });
  await refused(t, ns, own, /container\(s\) setup add\(s\) NET_ADMIN/);
});

t.test('capability names as the runtime reads them: any case (containerd and CRI-O upper-case them), with or without CAP_', async (t) => {
  const ns = await optedIn('protect');
  // Go's strings.ToUpper also turns a dotless i (U+0131) into I: "net_adm\u0131n" grants CAP_NET_ADMIN on containerd.
  for (const cap of ['net_admin', 'Net_Raw', 'all', 'cap_net_admin', 'Cap_Net_Raw', 'net_adm\u0131n', 'NET_ADM\u0131N']) {
    const pod = injected(app('caps'));
    pod.spec.containers[0]!.securityContext = { capabilities: { add: ['CHOWN', cap] } };
    await refused(t, ns, pod, /container\(s\) app add\(s\) NET_ADMIN or NET_RAW/);
  }
  // Names that are not those capabilities in any case stay admitted.
  for (const cap of ['chown', 'NET_BIND_SERVICE', 'net_bind_service', 'NET_ADMINS', 'n\u0130t_admin']) {
    const pod = injected(app('benign-caps'));
    pod.spec.containers[0]!.securityContext = { capabilities: { add: [cap] } };
    await admitted(t, ns, pod);
  }
});

t.test('hostNetwork and a forged mirror-pod annotation do not get around the sidecar', async (t) => {
  const ns = await optedIn('protect');
  await refused(t, ns, app('host', {}, { hostNetwork: true }), /hostNetwork pod's egress bypasses the sidecar/);
  await refused(t, ns, app('mirror', { annotations: { 'kubernetes.io/config.mirror': 'x' } }, { nodeName: 'node-1' }), /has no kube-dlp sidecar/);
});

t.test('namespaces that did not opt in are not touched', async (t) => {
  const { kubeConfig } = await setup;
  const name = await newNamespace(kubeConfig, 'kdlp-vap-other');
  t.equal(await create({ name, labels: {}, annotations: {} }, app('plain')), undefined);
});
