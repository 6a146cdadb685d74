// Golden files for the injection: each test/golden/inject/NAME.in.yaml (a Pod,
// optionally followed by an InjectionContext document) is sent through the
// webhook's handler, and the answer is compared with NAME.out.yaml: the pod
// after applying the returned JSON Patch, or the refusal. Regenerate with
//   KDLP_UPDATE_GOLDEN=1 npx tap test/unit/inject-golden.test.ts
// and review the diff. An .out.yaml without its .in.yaml fails (and is
// removed on regeneration).
import t from 'tap';
import { existsSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_INJECTION_CONFIG } from '../../operator/inject/inject';
import { applyPatch, type Operation } from '../../operator/inject/json-patch';
import type { CaptureMode } from '../../operator/inject/names';
import { allowancesFromRenderedProfile, strictest } from '../../operator/inject/profile-allowances';
import { randomProxyUid } from '../../operator/inject/proxy-uid';
import { loadTemplate } from '../../operator/inject/render-template';
import { silentLogger } from '../../operator/kube/logger';
import type { NamespaceView } from '../../operator/model/views';
import { InjectionHandler } from '../../operator/webhook/handler';
import { WebhookMetrics } from '../../operator/webhook/metrics';

const DIR = join(__dirname, '..', 'golden', 'inject');
const UPDATE = process.env.KDLP_UPDATE_GOLDEN === '1';

/**
 * The proxy uid in the goldens: the webhook's own chooser, with the random
 * draws replaced by 1234567, 1234568, ... so an output names a fixed uid and
 * the exclusion of uids the pod already uses still shows (app-uid-collides).
 */
const GOLDEN_PROXY_UID = 1234567;
const goldenProxyUid = (pod: Parameters<typeof randomProxyUid>[0]) => {
  let next = GOLDEN_PROXY_UID;
  return randomProxyUid(pod, () => next++);
};

interface InjectionContext {
  kind: 'InjectionContext';
  /** labels default to what the operator mirrors from the profile's mode (kubedlp.io/enforcement). */
  namespace?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  nativeSidecars?: boolean;
  defaultCaptureMode?: CaptureMode;
  /** The rendered profile of the namespace (its spec); absent = not rendered yet. */
  profile?: unknown;
}

async function runCase(inputText: string): Promise<string> {
  const docs = parseAllDocuments(inputText).map((d) => d.toJS());
  const pod = docs[0];
  const ctx: InjectionContext = docs[1] ?? { kind: 'InjectionContext' };
  const nsName = ctx.namespace?.name ?? 'shop';
  const namespace: NamespaceView = {
    name: nsName,
    uid: `uid-${nsName}`,
    labels: ctx.namespace?.labels ?? { 'kubedlp.io/enforcement': (ctx.profile as { mode?: string } | undefined)?.mode === 'Protect' ? 'protect' : 'monitor' },
    annotations: ctx.namespace?.annotations ?? { 'kubedlp.io/inject': 'enabled' },
    terminating: false,
  };
  const metrics = new WebhookMetrics(new Registry());
  const handler = new InjectionHandler({
    template: loadTemplate(),
    config: { ...DEFAULT_INJECTION_CONFIG, image: 'registry.example/kube-dlp:0.1.0', nativeSidecars: ctx.nativeSidecars ?? true, chooseProxyUid: goldenProxyUid },
    defaultCaptureMode: ctx.defaultCaptureMode ?? 'explicit',
    optIn: { operatorNamespace: 'kube-dlp-system' },
    failurePolicy: 'Fail',
    namespaces: { namespace: async (n) => (n === nsName ? namespace : undefined) },
    allowances: {
      allowances: async () =>
        ctx.profile === undefined
          ? strictest('the profile (not rendered yet)')
          : allowancesFromRenderedProfile(stringify({ kind: 'RenderedProfile', profile: { name: 'default' }, spec: ctx.profile })),
    },
    metrics,
    log: silentLogger,
  });
  const { review, result } = await handler.review({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'golden', kind: { group: '', version: 'v1', kind: 'Pod' }, namespace: nsName, operation: 'CREATE', object: pod },
  });
  const r = review.response;
  if (!r.allowed) return `# ${result}\n${stringify({ allowed: false, status: r.status }, { lineWidth: 0 })}`;
  const patch: Operation[] = r.patch ? JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8')) : [];
  const out = applyPatch(pod, patch);
  const skipped = (await metrics.skips.get()).values.find((v) => v.value > 0)?.labels.reason;
  const header = result === 'skipped' ? `skipped (${skipped}): pod unchanged` : `${result}: ${patch.length} patch operation(s)`;
  return `# ${header}\n${stringify(out, { lineWidth: 0 })}`;
}

const files = readdirSync(DIR);
const inputs = files.filter((f) => f.endsWith('.in.yaml')).sort();

t.ok(inputs.length >= 10, 'golden inputs are present');

for (const input of inputs) {
  const name = input.slice(0, -'.in.yaml'.length);
  t.test(name, async (t) => {
    const actual = await runCase(readFileSync(join(DIR, input), 'utf8'));
    const outPath = join(DIR, `${name}.out.yaml`);
    if (UPDATE) writeFileSync(outPath, actual);
    t.ok(existsSync(outPath), `${name}.out.yaml exists (regenerate with KDLP_UPDATE_GOLDEN=1)`);
    if (existsSync(outPath)) t.equal(actual, readFileSync(outPath, 'utf8'), `${name}.out.yaml is up to date (regenerate with KDLP_UPDATE_GOLDEN=1)`);
  });
}

t.test('every golden output has its input', async (t) => {
  for (const out of files.filter((f) => f.endsWith('.out.yaml'))) {
    const input = out.replace(/\.out\.yaml$/, '.in.yaml');
    if (UPDATE && !existsSync(join(DIR, input))) unlinkSync(join(DIR, out));
    else t.ok(existsSync(join(DIR, input)), `${out} has ${input}`);
  }
  const others = files.filter((f) => !f.endsWith('.in.yaml') && !f.endsWith('.out.yaml'));
  t.same(others, [], 'no other files in the golden folder');
});
