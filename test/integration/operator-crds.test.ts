// The generated CRDs on a real API server: the samples are accepted, bad
// profiles are rejected by the schema or the CEL rules with the API server's
// own message naming the field, defaults are applied, and status is a
// subresource with the printer columns kubectl shows.
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { KubeApiError } from '../../operator/errors';
import { CLUSTER_SECURITY_PROFILES, NAMESPACES, SECURITY_PROFILES } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { applyProfile, clusterProfile, createNamespace, ROOT, securityProfile, startTestPlane, type TestPlane } from './operator-harness';
import { DECODER_VALUES } from '../../proxy/profile/schema';

let tp: TestPlane;
t.before(async () => {
  tp = await startTestPlane();
});
t.teardown(async () => tp?.stop());

async function rejection(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
  throw new Error('expected the API server to reject the request');
}

t.test('the samples are accepted (and defaults filled in by the API server)', async (t) => {
  const ns = 'payments';
  await tp.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (const file of ['clustersecurityprofile-default.yaml', 'securityprofile-monitor.yaml', 'securityprofile-protect.yaml']) {
    const obj = parse(readFileSync(join(ROOT, 'config', 'samples', file), 'utf8')) as KubeObject;
    // Namespaced samples name no namespace (they apply to any, with -n); here that is `payments`.
    if (obj.kind === 'SecurityProfile') {
      t.equal(obj.metadata.namespace, undefined, `${file} names no namespace`);
      obj.metadata.namespace = ns;
    }
    const stored = await applyProfile(tp.admin, obj);
    t.equal(stored.metadata.generation, 1, file);
  }
  const stored = await tp.admin.get(CLUSTER_SECURITY_PROFILES, 'default');
  const spec = stored.spec as { inspection: { maxBodyBytes: number; decoders: string[] }; detectors: { custom: unknown[] } };
  t.equal(spec.inspection.maxBodyBytes, 10485760, 'nested default under a defaulted object');
  t.same(spec.detectors.custom, []);
  t.same(spec.inspection.decoders, [...DECODER_VALUES], 'every decoder, normalize included, by default');
});

t.test('an empty spec is defaulted to Monitor mode', async (t) => {
  const stored = await applyProfile(tp.admin, { ...clusterProfile('empty', undefined), spec: undefined } as unknown as KubeObject);
  t.equal((stored.spec as { mode: string }).mode, 'Monitor');
});

// Whether validate.ts rejects the same specs is test/unit/cel-parity.test.ts.
t.test("the API server rejects with each CEL rule's message, naming the field", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ['protect-deny-without-allow', { mode: 'Protect', egress: { default: 'Deny' } }, /spec\.egress\.allow: Required value: Protect mode with egress\.default Deny needs at least one egress\.allow rule/],
    ['hold-back', { inspection: { holdBackBytes: 2048, maxBodyBytes: 1024 } }, /spec\.inspection\.holdBackBytes: Invalid value: .*holdBackBytes must not exceed maxBodyBytes/],
    ['dup-ids', { detectors: { custom: [{ id: 'order', pattern: 'a' }, { id: 'custom.order', pattern: 'b' }] } }, /spec\.detectors\.custom: Invalid value: .*custom detector ids must be unique/],
    ['host-and-cidr', { egress: { deny: [{ host: 'a.example', cidr: '10.0.0.0/8' }] } }, /spec\.egress\.deny\[0\]: Invalid value: .*host and cidr are mutually exclusive/],
    ['empty-rule', { egress: { allow: [{ allowUninspectable: true }] } }, /spec\.egress\.allow\[0\]: Required value: a rule needs at least one of host, cidr or ports/],
    ['deny-uninspectable', { egress: { deny: [{ host: 'x.example', allowUninspectable: true }] } }, /spec\.egress\.deny\[0\]\.allowUninspectable: Forbidden: allowUninspectable is only meaningful on allow rules/],
    ['exception', { tenancy: { exceptions: [{ tenant: 'a', namespace: 'b' }] } }, /spec\.tenancy\.exceptions\[0\]: Invalid value: .*set exactly one of tenant or namespace/],
    ['share-everything', { tenancy: { sharedNamespaces: [{ matchLabels: {} }] } }, /spec\.tenancy\.sharedNamespaces\[0\]\.matchLabels: Required value: a shared-namespace selector needs at least one label/],
  ];
  for (const [name, spec, message] of cases) {
    const err = await rejection(applyProfile(tp.admin, clusterProfile(name, spec)));
    t.equal(err.status, 422, name);
    t.match(err.apiMessage, message, name);
  }
  // Protect with Deny is fine once something is allowed.
  await applyProfile(tp.admin, clusterProfile('protect-deny-ok', { mode: 'Protect', egress: { default: 'Deny', allow: [{ host: 'api.example.com' }] } }));
});

t.test('the schema rejects wrong types, unknown enum values and patterns', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ mode: 'Enforce' }, /spec\.mode: Unsupported value: "Enforce": supported values: "Monitor", "Protect"/],
    [{ detectors: { custom: [{ id: 'Bad Id', pattern: 'x' }] } }, /spec\.detectors\.custom\[0\]\.id: Invalid value: "Bad Id": spec\.detectors\.custom\[0\]\.id in body should match/],
    [{ detectors: { custom: [{ id: 'ok', pattern: '' }] } }, /spec\.detectors\.custom\[0\]\.pattern: Invalid value: "": .*should be at least 1 chars long/],
    [{ inspection: { maxBodyBytes: -1 } }, /spec\.inspection\.maxBodyBytes: Invalid value: -1: .*should be greater than or equal to 0/],
    [{ detectors: { custom: Array.from({ length: 257 }, (_, i) => ({ id: `d${i}`, pattern: 'x' })) } }, /spec\.detectors\.custom: Too many: 257: must have at most 256 items/],
  ];
  for (const [spec, message] of cases) {
    const err = await rejection(applyProfile(tp.admin, clusterProfile('bad', spec)));
    t.match(err.apiMessage, message);
  }
});

t.test('an unknown field is pruned, not stored (validate.ts reports it for files)', async (t) => {
  const stored = await tp.admin.create(CLUSTER_SECURITY_PROFILES, clusterProfile('typo', { egress: { alow: [{ host: 'x' }] } }));
  t.equal((stored.spec as { egress: Record<string, unknown> }).egress.alow, undefined);
});

t.test('status is a subresource; the printer columns read it', async (t) => {
  const ns = await createNamespace(tp.admin, 'crd-status');
  const created = await applyProfile(tp.admin, securityProfile(ns, 'p', { mode: 'Protect' }));
  // A status sent with the main resource is ignored.
  const withStatus = { ...created, status: { namespaces: 5 } };
  const replaced = await tp.admin.replace(SECURITY_PROFILES, withStatus);
  t.equal((replaced.status as unknown) ?? undefined, undefined);
  await tp.admin.apply(
    SECURITY_PROFILES,
    {
      apiVersion: 'kubedlp.io/v1alpha1',
      kind: 'SecurityProfile',
      metadata: { name: 'p', namespace: ns },
      status: {
        observedGeneration: 1,
        detectors: 42,
        namespaces: 3,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Rendered', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    },
    { fieldManager: 'kube-dlp-test', subresource: 'status' },
  );
  const res = await fetchTable(`/apis/kubedlp.io/v1alpha1/namespaces/${ns}/securityprofiles`);
  t.same(res.columnDefinitions.map((c) => c.name), ['Name', 'Mode', 'Detectors', 'Namespaces', 'Ready', 'Age']);
  t.same(res.rows[0]!.cells.slice(0, 5), ['p', 'Protect', 42, 3, 'True']);
  const bad = await rejection(
    tp.admin.apply(
      SECURITY_PROFILES,
      { apiVersion: 'kubedlp.io/v1alpha1', kind: 'SecurityProfile', metadata: { name: 'p', namespace: ns }, status: { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'x', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }] } },
      { fieldManager: 'kube-dlp-test', subresource: 'status' },
    ),
  );
  t.match(bad.apiMessage, /status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
});

/** kubectl's table view (what `kubectl get` prints), via the Accept header. */
async function fetchTable(path: string): Promise<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }> {
  const https = await import('node:https');
  const kc = tp.plane.kubeConfig;
  const opts: import('node:https').RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(path, tp.plane.server);
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: opts.ca, cert: opts.cert, key: opts.key, headers: { accept: 'application/json;as=Table;g=meta.k8s.io;v=v1' } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}
