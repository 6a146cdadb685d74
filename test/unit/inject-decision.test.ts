// The injection decision (ordered checks, first reason wins), the pod
// annotation table (all problems at once, within what the profile allows),
// the profile allowances and the sidecar status annotation.
import t from 'tap';
import { decideInjection, SKIP_REASONS, type InjectionInput } from '../../operator/inject/decide-injection';
import { podOverrides } from '../../operator/inject/pod-annotations';
import { allowancesFromRenderedProfile, cidrCovered, strictest } from '../../operator/inject/profile-allowances';
import { formatSidecarStatus, sidecarStatusOf } from '../../operator/inject/sidecar-status';
import type { Pod } from '../../operator/inject/pod';
import type { NamespaceView } from '../../operator/model/views';
import { parseCidr } from '../../proxy/policy/egress-syntax';

const ctx = { operatorNamespace: 'kube-dlp-system' };
const ns = (name: string, annotations: Record<string, string> = { 'kubedlp.io/inject': 'enabled' }): NamespaceView => ({
  name,
  uid: `uid-${name}`,
  labels: {},
  annotations,
  terminating: false,
});
const pod = (meta: Partial<Pod['metadata']> = {}, spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'p', namespace: 'shop', ...meta },
  spec: { containers: [{ name: 'app' }], ...spec },
});
const input = (over: Partial<InjectionInput> = {}): InjectionInput => ({
  kind: { group: '', version: 'v1', kind: 'Pod' },
  operation: 'CREATE',
  pod: pod(),
  namespace: ns('shop'),
  ...over,
});

t.test('an opted-in namespace: inject, with its tenant and profile', async (t) => {
  t.same(decideInjection(input(), ctx), { kind: 'inject', tenant: 'shop', profileName: 'default' });
  t.same(decideInjection(input({ namespace: ns('shop', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'acme', 'kubedlp.io/profile': 'strict' }) }), ctx), {
    kind: 'inject',
    tenant: 'acme',
    profileName: 'strict',
  });
});

t.test('each skip reason, with what triggers it', async (t) => {
  const cases: [InjectionInput, string][] = [
    [input({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' } }), 'not-a-pod'],
    [input({ subResource: 'ephemeralcontainers' }), 'not-a-pod'],
    [input({ operation: 'UPDATE' }), 'not-a-pod'],
    [input({ pod: undefined }), 'not-a-pod'],
    [input({ namespace: undefined }), 'namespace-not-opted-in'],
    [input({ namespace: ns('shop', {}) }), 'namespace-not-opted-in'],
    [input({ namespace: ns('kube-system') }), 'namespace-not-opted-in'],
    [input({ namespace: ns('kube-dlp-system') }), 'namespace-not-opted-in'],
    [input({ pod: pod({ annotations: { 'kubedlp.io/inject': 'disabled' } }) }), 'pod-opted-out'],
    [input({ pod: pod({ labels: { 'kubedlp.io/inject': 'disabled' } }) }), 'pod-opted-out'],
    [input({ pod: pod({ annotations: { 'kubernetes.io/config.mirror': 'abc' } }) }), 'mirror-pod'],
    [input({ pod: pod({}, { hostNetwork: true }) }), 'host-network'],
  ];
  for (const [i, reason] of cases) {
    const d = decideInjection(i, ctx);
    t.equal(d.kind === 'skip' ? d.reason : d.kind, reason, reason);
  }
  t.same([...SKIP_REASONS], ['not-a-pod', 'namespace-not-opted-in', 'pod-opted-out', 'mirror-pod', 'host-network']);
});

t.test('the first check that applies decides', async (t) => {
  // Opted out AND host network AND a namespace that is not opted in: the namespace check comes first.
  const everything = input({ namespace: ns('shop', {}), pod: pod({ annotations: { 'kubedlp.io/inject': 'disabled' } }, { hostNetwork: true }) });
  t.match(decideInjection(everything, ctx), { kind: 'skip', reason: 'namespace-not-opted-in' });
  const optedOutHost = input({ pod: pod({ annotations: { 'kubedlp.io/inject': 'disabled' } }, { hostNetwork: true }) });
  t.match(decideInjection(optedOutHost, ctx), { kind: 'skip', reason: 'pod-opted-out' });
});

t.test('a namespace with invalid annotations refuses pods, unless they opted out', async (t) => {
  const broken = ns('shop', { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': 'no spaces allowed' });
  t.match(decideInjection(input({ namespace: broken }), ctx), { kind: 'deny', message: /namespace shop: invalid annotations.*kubedlp\.io\/tenant/ });
  t.match(decideInjection(input({ namespace: broken, pod: pod({ annotations: { 'kubedlp.io/inject': 'disabled' } }) }), ctx), { kind: 'skip', reason: 'pod-opted-out' });
});

t.test('a pod carrying the sidecar and our status is injected again: the request cannot tell us from its author', async (t) => {
  const injected = pod({}, { containers: [{ name: 'app' }], initContainers: [{ name: 'kube-dlp-proxy' }] });
  injected.metadata.annotations = { 'kubedlp.io/sidecar-status': formatSidecarStatus(sidecarStatusOf(injected, 'explicit', true)) };
  t.match(decideInjection(input({ pod: injected }), ctx), { kind: 'inject' }, 'a matching status is no reason to keep the uid the request names');
  const extended = structuredClone(injected);
  extended.spec.containers.push({ name: 'added-later' });
  t.match(decideInjection(input({ pod: extended }), ctx), { kind: 'inject' }, 'a container added by a later webhook: inject again');
});

t.test('sidecar status: the mode and the containers after injection', async (t) => {
  const p = pod({}, { containers: [{ name: 'a' }, { name: 'b' }], initContainers: [{ name: 'i' }] });
  t.equal(formatSidecarStatus(sidecarStatusOf(p, 'transparent', false)), '{"mode":"transparent","native":false,"containers":["a","b"],"initContainers":["i"]}');
});

const monitor = allowancesFromRenderedProfile('kind: RenderedProfile\nprofile: {name: m}\nspec: {mode: Monitor}\n');
const protect = allowancesFromRenderedProfile(
  [
    'kind: RenderedProfile',
    'profile: {name: p, namespace: shop}',
    'spec:',
    '  mode: Protect',
    '  egress:',
    '    allow:',
    '      - {ports: [5432, "6379-6380"], allowUninspectable: true}',
    '      - {cidr: 10.1.0.0/16, allowUninspectable: true}',
    '      - {cidr: 10.2.0.0/16, ports: [80], allowUninspectable: true}',
    '      - {cidr: 10.3.0.0/16}',
  ].join('\n'),
);

t.test('profile allowances follow egress.uninspectable and allowUninspectable rules', async (t) => {
  t.equal(monitor.uninspectableAllowed, true, 'Monitor: uninspectable allowed by default');
  t.equal(protect.uninspectableAllowed, false, 'Protect: denied by default');
  t.equal(protect.source, 'profile shop/p');
  t.same(protect.uninspectableCidrs.map((c) => `${c.address}/${c.prefix}`), ['10.1.0.0/16'], 'a port-limited CIDR rule is not a whole network; a rule without allowUninspectable is nothing');
  t.same(protect.uninspectablePorts, [{ from: 5432, to: 5432 }, { from: 6379, to: 6380 }]);
  t.equal(allowancesFromRenderedProfile('kind: RenderedProfile\nspec: {mode: Protect, egress: {uninspectable: Allow}}').uninspectableAllowed, true);
  t.equal(allowancesFromRenderedProfile('kind: RenderedProfile\nspec: {mode: Monitor, egress: {uninspectable: Deny}}').uninspectableAllowed, false);
  t.equal(allowancesFromRenderedProfile(': not yaml: [').uninspectableAllowed, false, 'unreadable: strictest');
});

t.test('CIDR coverage', async (t) => {
  const c = (s: string) => {
    const p = parseCidr(s);
    if (!p.ok) throw new Error(p.error);
    return p.value;
  };
  t.ok(cidrCovered(c('10.1.2.0/24'), [c('10.1.0.0/16')]));
  t.ok(cidrCovered(c('10.1.2.3'), [c('10.1.0.0/16')]));
  t.notOk(cidrCovered(c('10.0.0.0/8'), [c('10.1.0.0/16')]), 'a wider network is not covered');
  t.notOk(cidrCovered(c('10.2.0.0/24'), [c('10.1.0.0/16')]));
  t.ok(cidrCovered(c('fd00:1::/32'), [c('fd00::/8')]));
  t.notOk(cidrCovered(c('fd00::/8'), [c('10.0.0.0/8')]), 'families never cover each other');
});

t.test('pod annotations: defaults, valid overrides, and every problem at once', async (t) => {
  t.same(podOverrides({}, { defaultCaptureMode: 'explicit', allowances: strictest('x') }), {
    ok: true,
    overrides: { captureMode: 'explicit', excludePorts: [], excludeCidrs: [] },
  });
  const ok = podOverrides(
    { 'kubedlp.io/capture-mode': 'transparent', 'kubedlp.io/exclude-outbound-ports': ' 5432 , 6379-6380', 'kubedlp.io/exclude-outbound-cidrs': '10.1.2.0/24' },
    { defaultCaptureMode: 'explicit', allowances: protect },
  );
  t.match(ok, { ok: true, overrides: { captureMode: 'transparent', excludePortsText: '5432,6379-6380', excludeCidrsText: '10.1.2.0/24' } });

  const bad = podOverrides(
    {
      'kubedlp.io/inject': 'maybe',
      'kubedlp.io/capture-mode': 'transparent',
      'kubedlp.io/exclude-outbound-ports': '443,5432,x',
      'kubedlp.io/exclude-outbound-cidrs': '0.0.0.0/0,10.1.0.0/24,300.1.1.1',
    },
    { defaultCaptureMode: 'explicit', allowances: protect },
  );
  t.equal(bad.ok, false);
  if (bad.ok) return;
  t.same(
    bad.problems.map((p) => p.annotation),
    ['kubedlp.io/inject', 'kubedlp.io/exclude-outbound-ports', 'kubedlp.io/exclude-outbound-ports', 'kubedlp.io/exclude-outbound-cidrs', 'kubedlp.io/exclude-outbound-cidrs'],
  );
  t.match(bad.problems[2]!.message, /port\(s\) 443 may not bypass the proxy: profile shop\/p denies uninspectable egress/);
  t.match(bad.problems[4]!.message, /network\(s\) 0\.0\.0\.0\/0 may not bypass/);
  t.notMatch(bad.problems[4]!.message, /10\.1\.0\.0\/24/, 'a covered network is not refused');

  t.match(podOverrides({ 'kubedlp.io/exclude-outbound-ports': ' , ' }, { defaultCaptureMode: 'transparent', allowances: monitor }), {
    ok: false,
    problems: [{ annotation: 'kubedlp.io/exclude-outbound-ports', message: /must list port/ }],
  });
});

t.test('explicit capture: exclusions are refused, and a Protect profile keeps transparent pods transparent', async (t) => {
  t.match(podOverrides({ 'kubedlp.io/exclude-outbound-cidrs': '10.0.0.0/8' }, { defaultCaptureMode: 'explicit', allowances: monitor }), {
    ok: false,
    problems: [{ message: /only with capture mode "transparent"/ }],
  });
  t.match(podOverrides({ 'kubedlp.io/capture-mode': 'explicit' }, { defaultCaptureMode: 'transparent', allowances: protect }), {
    ok: false,
    problems: [{ annotation: 'kubedlp.io/capture-mode', message: /bypass the proxy/ }],
  });
  t.match(podOverrides({ 'kubedlp.io/capture-mode': 'explicit' }, { defaultCaptureMode: 'transparent', allowances: monitor }), { ok: true });
  t.match(podOverrides({ 'kubedlp.io/capture-mode': 'transparent' }, { defaultCaptureMode: 'explicit', allowances: protect }), { ok: true }, 'more capture is always allowed');
});
