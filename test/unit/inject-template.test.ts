// The template renderer, the injection's idempotence, and the JSON Patch
// between submitted and injected pods.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_INJECTION_CONFIG, injectPod, type InjectionConfig } from '../../operator/inject/inject';
import { applyPatch, createPatch, escapePointer } from '../../operator/inject/json-patch';
import type { Pod } from '../../operator/inject/pod';
import type { PodOverrides } from '../../operator/inject/pod-annotations';
import { loadTemplate, parseTemplate, render, TEMPLATE_SECTIONS } from '../../operator/inject/render-template';
import { TemplateError } from '../../operator/errors';

const template = loadTemplate();
/** A fixed proxy uid: with it, injection is idempotent; the drawn uid is the one thing a second injection changes (below). */
const config = (native: boolean): InjectionConfig => ({ ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: native, chooseProxyUid: () => 1234567 });
const explicit: PodOverrides = { captureMode: 'explicit', excludePorts: [], excludeCidrs: [] };
const transparent: PodOverrides = { captureMode: 'transparent', excludePorts: [], excludeCidrs: [], excludePortsText: '5432' };

t.test('placeholders: typed when whole, text when inline, absent drops the holder, unknown is an error', async (t) => {
  const node = { port: '{{ port }}', args: ['--a={{ a }}', '--b={{ b }}', 'plain'], opt: '{{ b }}', res: '{{ res }}' };
  t.same(render(node, { port: 15001, a: 'x', b: undefined, res: { limits: { cpu: '1' } } }), {
    port: 15001,
    args: ['--a=x', 'plain'],
    res: { limits: { cpu: '1' } },
  });
  t.throws(() => render({ x: '{{ typo }}' }, { port: 1 }), TemplateError);
  t.throws(() => render({ x: 'a-{{ res }}' }, { res: { a: 1 } }), /not text/);
  // A value cannot change the structure: it stays one string.
  t.same(render({ tenant: '{{ t }}' }, { t: 'a: b\n- c' }), { tenant: 'a: b\n- c' });
});

t.test('the built-in template has every section, and a template without them is refused', async (t) => {
  for (const s of TEMPLATE_SECTIONS) t.ok(s in template, s);
  t.throws(() => parseTemplate('proxy: {}\n'), /missing section\(s\) initIptables/);
  t.throws(() => parseTemplate('- a list'), TemplateError);
});

t.test('rendering every section in every mode uses only known values', async (t) => {
  for (const native of [true, false]) {
    for (const overrides of [explicit, transparent]) {
      const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } };
      t.doesNotThrow(() => injectPod(pod, template, config(native), { tenant: 't', overrides }), `native=${native} ${overrides.captureMode}`);
    }
  }
});

t.test('injecting an injected pod with the same uid returns it unchanged (every golden input, both cluster generations)', async (t) => {
  const dir = join(__dirname, '..', 'golden', 'inject');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.in.yaml'))) {
    const pod = parseAllDocuments(readFileSync(join(dir, f), 'utf8'))[0]!.toJS() as Pod;
    for (const native of [true, false]) {
      for (const overrides of [explicit, transparent]) {
        const once = injectPod(pod, template, config(native), { tenant: 't', overrides });
        const twice = injectPod(once, template, config(native), { tenant: 't', overrides });
        t.same(createPatch(once, twice), [], `${f} native=${native} ${overrides.captureMode}`);
      }
    }
  }
});

t.test('injecting again with the webhook uid source changes only the uid, in the sidecar and the init container alike', async (t) => {
  const random = (native: boolean): InjectionConfig => ({ ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: native });
  const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app' }] } };
  const uidOf = (p: Pod) => {
    const all = [...p.spec.containers, ...(p.spec.initContainers ?? [])];
    const proxy = all.find((c) => c.name === 'kube-dlp-proxy')!.securityContext as { runAsUser: number; runAsGroup: number };
    const init = all.find((c) => c.name === 'kube-dlp-init');
    const arg = (init?.args as string[] | undefined)?.find((a) => a.startsWith('--proxy-uid='));
    return { user: proxy.runAsUser, group: proxy.runAsGroup, init: arg === undefined ? undefined : Number(arg.slice('--proxy-uid='.length)) };
  };
  for (const native of [true, false]) {
    const once = injectPod(pod, template, random(native), { tenant: 't', overrides: transparent });
    const twice = injectPod(once, template, random(native), { tenant: 't', overrides: transparent });
    const [a, b] = [uidOf(once), uidOf(twice)];
    for (const u of [a, b]) {
      t.ok(u.user >= 2 ** 20 && u.user <= 2 ** 31 - 2, `native=${native}: ${u.user} is in the range`);
      t.same(u, { user: u.user, group: u.user, init: u.user }, `native=${native}: one uid for runAsUser, runAsGroup and --proxy-uid`);
    }
    t.not(a.user, b.user, `native=${native}: a fresh draw (equal once in 2^31)`);
    const paths = createPatch(once, twice).map((op) => op.path);
    t.ok(paths.length > 0 && paths.every((p) => /\/securityContext\/runAs(User|Group)$|\/args\/\d+$/.test(p)), `native=${native}: only the uid fields change: ${paths.join(' ')}`);
  }
});

t.test('the submitted pod is never modified in place', async (t) => {
  const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', env: [{ name: 'A', value: '1' }] }] } };
  const before = structuredClone(pod);
  injectPod(pod, template, config(true), { tenant: 't', overrides: explicit });
  t.same(pod, before);
});

t.test('JSON Patch: applying the diff gives the target, with precise insertions', async (t) => {
  const before = { a: 1, list: [{ n: 'x' }, { n: 'y' }], gone: true, 'we/ird~key': 1 };
  const after = { a: 2, list: [{ n: 'w' }, { n: 'x' }, { n: 'y' }, { n: 'z' }], added: { deep: [1] }, 'we/ird~key': 2 };
  const patch = createPatch(before, after);
  t.same(applyPatch(before, patch), after);
  t.ok(patch.some((op) => op.path === '/we~1ird~0key'), 'keys are escaped (RFC 6901)');
  t.equal(escapePointer('a/b~c'), 'a~1b~0c');
  const insertion = createPatch({ l: ['b', 'c'] }, { l: ['a', 'b', 'c'] });
  t.same(insertion, [{ op: 'add', path: '/l/0', value: 'a' }], 'a prepend is one add at index 0');
  t.same(createPatch({ l: ['a'] }, { l: ['a', 'b'] }), [{ op: 'add', path: '/l/-', value: 'b' }], 'an append uses "-"');
  t.same(createPatch({ l: ['a', 'b'] }, { l: ['c'] }), [{ op: 'replace', path: '/l', value: ['c'] }], 'anything else replaces the array');
  t.same(createPatch({ x: [1, { y: 2 }] }, { x: [1, { y: 2 }] }), [], 'equal: empty patch');
  t.throws(() => applyPatch({ a: [] }, [{ op: 'replace', path: '/a/3', value: 1 }]), /out of range/);
});

t.test('the patch of an injection applies to the submitted pod and yields the injected pod', async (t) => {
  const pod: Pod = {
    metadata: { name: 'p', annotations: { keep: 'me' } },
    spec: { initContainers: [{ name: 'user-init' }], containers: [{ name: 'app', env: [{ name: 'HTTPS_PROXY', value: 'http://corp:3128' }] }], volumes: [{ name: 'v' }] },
  };
  for (const native of [true, false]) {
    for (const overrides of [explicit, transparent]) {
      const injected = injectPod(pod, template, config(native), { tenant: 't', overrides });
      t.same(applyPatch(pod, createPatch(pod, injected)), injected, `native=${native} ${overrides.captureMode}`);
    }
  }
});
