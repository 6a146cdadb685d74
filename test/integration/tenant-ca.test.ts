// The tenant interception CA on a real API server, the operator as a process:
// created on first need (a profile with tls.intercept: Enabled), copied into
// each intercepting namespace (key in a Secret for the sidecar, certificates
// in a ConfigMap for apps), shared by the namespaces of one tenant, removed
// with interception and with the tenant; rotated with an overlap (short
// validity flags); and, with --tenant-ca cert-manager, the Secret a
// Certificate writes consumed as it is.
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { CONFIG_MAPS, NAMESPACES, SECRETS } from '../../operator/kube/resources';
import type { KubeObject } from '../../operator/model/kube-object';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { waitFor } from '../envtest';
import {
  applyProfile,
  annotateNamespace,
  createNamespace,
  getOrUndefined,
  securityProfile,
  startOperator,
  startTestPlane,
  type OperatorProcess,
  type TestPlane,
} from './operator-harness';

let tp: TestPlane;
let op: OperatorProcess | undefined;
const OPERATOR_NS = 'kube-dlp-system';

t.before(async () => {
  tp = await startTestPlane();
  await tp.admin.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NS } });
});
t.teardown(async () => {
  if (op && op.child.exitCode === null) await op.kill();
  await tp?.stop();
});
t.afterEach(async (t) => {
  if (t.passing() || !op) return;
  t.comment(op.logs().split('\n').slice(-40).join('\n'));
});

async function runOperator(args: string[]): Promise<void> {
  if (op && op.child.exitCode === null) await op.stop();
  op = startOperator(tp.plane.kubeconfigPath, ['--namespace', OPERATOR_NS, '--tenant-ca-check-interval', '300ms', ...args]);
}

const wait = <T>(what: string, fn: () => Promise<T | undefined | false>) => waitFor(fn, { what, timeoutMs: 60_000, intervalMs: 100 });
const text = (obj: KubeObject | undefined, key: string): string | undefined => {
  const v = (obj?.data as Record<string, string> | undefined)?.[key];
  return v === undefined ? undefined : obj!.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
};
const fingerprints = (pem: string | undefined) =>
  (pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c).fingerprint256);
const fp = (pem: string | undefined) => (pem ? new X509Certificate(pem).fingerprint256 : undefined);

const tenantSecret = (tenant: string) => getOrUndefined(tp.admin, SECRETS, `kube-dlp-ca-${tenant}`, OPERATOR_NS);
const nsSecret = (ns: string) => getOrUndefined(tp.admin, SECRETS, 'kube-dlp-intercept-ca', ns);
const trustMap = (ns: string) => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-trust-bundle', ns);

async function interceptingNamespace(prefix: string, tenant: string, intercept: 'Enabled' | 'Disabled' = 'Enabled'): Promise<string> {
  const ns = await createNamespace(tp.admin, prefix, { 'kubedlp.io/inject': 'enabled', 'kubedlp.io/tenant': tenant });
  await applyProfile(tp.admin, securityProfile(ns, 'default', { mode: 'Protect', tls: { intercept } }));
  return ns;
}

t.test('self-managed: created on first need, copied per namespace, shared by a tenant, removed when unused', async (t) => {
  await runOperator([]);
  const plain = await interceptingNamespace('plain', 'acme', 'Disabled');
  await wait('the plain namespace rendered', () => getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', plain));
  t.equal(await tenantSecret('acme'), undefined, 'no CA while no profile intercepts');
  t.equal(await nsSecret(plain), undefined);

  const ns = await interceptingNamespace('shop', 'acme');
  const master = await wait('the tenant CA Secret', () => tenantSecret('acme'));
  t.equal((master as { type?: string }).type, 'kubernetes.io/tls');
  const copy = await wait('the namespace CA Secret', () => nsSecret(ns));
  t.equal((copy as { type?: string }).type, 'kubernetes.io/tls');
  t.equal(text(copy, 'tls.crt'), text(master, 'tls.crt'), 'the copy holds the signing CA');
  t.equal(text(copy, 'tls.key'), text(master, 'tls.key'));
  t.same(Object.keys(copy!.data as object).sort(), ['tls.crt', 'tls.key'], 'nothing but the signing CA in the copy');
  const trust = await wait('the trust bundle ConfigMap', () => trustMap(ns));
  t.same(fingerprints(text(trust, 'ca.crt')), [fp(text(master, 'tls.crt'))]);
  t.notMatch(JSON.stringify(trust), /PRIVATE KEY/, 'no key in what apps mount');
  t.equal(copy!.metadata.ownerReferences?.[0]?.kind, 'SecurityProfile', 'the copies go with the profile');
  // What the sidecar does with the mounted Secret: an ECDSA P-256 CA it can mint with.
  const ca = await InterceptCa.load({ certPem: text(copy, 'tls.crt')!, keyPem: text(copy, 'tls.key')! });
  const leaf = await ca.mint('api.example.com');
  t.ok(new X509Certificate(leaf.chainPem).verify(new X509Certificate(text(trust, 'ca.crt')!).publicKey), 'a leaf verifies against the trust bundle');

  const second = await interceptingNamespace('shop2', 'acme');
  const copy2 = await wait('the second namespace CA Secret', () => nsSecret(second));
  t.equal(fp(text(copy2, 'tls.crt')), fp(text(copy, 'tls.crt')), 'one CA per tenant');
  const other = await interceptingNamespace('other', 'globex');
  const copy3 = await wait('another tenant CA', () => nsSecret(other));
  t.not(fp(text(copy3, 'tls.crt')), fp(text(copy, 'tls.crt')), 'another tenant has another CA');

  await applyProfile(tp.admin, securityProfile(second, 'default', { mode: 'Protect', tls: { intercept: 'Disabled' } }));
  await wait('the copies removed with interception', async () => (await nsSecret(second)) === undefined && (await trustMap(second)) === undefined);
  t.ok(await tenantSecret('acme'), 'the tenant keeps its CA while a namespace of it is managed');

  for (const n of [ns, second, plain]) await annotateNamespace(tp.admin, n, { 'kubedlp.io/inject': null });
  await wait('the CA of a tenant without namespaces swept', async () => (await tenantSecret('acme')) === undefined);
  t.ok(await tenantSecret('globex'), 'other tenants keep theirs');
  await wait('an opted-out namespace to lose its copies', async () => (await nsSecret(ns)) === undefined && (await trustMap(ns)) === undefined);
});

t.test('rotation: the next CA is trusted before it signs, both are trusted while sidecars switch, then the old one goes', async (t) => {
  await runOperator(['--tenant-ca-overlap', '2s']);
  const ns = await interceptingNamespace('rot', 'rotating');
  const first = fp(text(await wait('the first CA', () => nsSecret(ns)), 'tls.crt'))!;
  // What an admin does on a suspected key leak (and what expiry does by itself).
  await tp.admin.mergePatch(SECRETS, 'kube-dlp-ca-rotating', OPERATOR_NS, { metadata: { annotations: { 'kubedlp.io/rotate-ca': 'requested' } } });
  const phases: string[] = [];
  let next: string | undefined;
  await waitFor(
    async () => {
      const signing = fp(text(await nsSecret(ns), 'tls.crt'));
      const trusted = fingerprints(text(await trustMap(ns), 'ca.crt'));
      let phase = '';
      if (signing === first && trusted.length === 2 && trusted[0] === first) {
        phase = 'next trusted, old signs';
        next = trusted[1];
      } else if (next && signing === next && trusted.includes(first) && trusted.includes(next)) phase = 'new signs, both trusted';
      else if (next && signing === next && trusted.length === 1 && trusted[0] === next) phase = 'old dropped';
      if (phase && phases.at(-1) !== phase) phases.push(phase);
      return phases.includes('old dropped') ? true : undefined;
    },
    { what: 'a full rotation', timeoutMs: 60_000, intervalMs: 50 },
  );
  t.same(phases, ['next trusted, old signs', 'new signs, both trusted', 'old dropped'], 'every phase, in order');
  const master = await tenantSecret('rotating');
  t.equal(master!.metadata.annotations?.['kubedlp.io/rotate-ca'], undefined, 'the request is consumed');
  t.equal(fp(text(master, 'tls.crt')), next, 'the tenant Secret signs with the new CA');
});

t.test('cert-manager: the Secret a Certificate writes is consumed, never rewritten', async (t) => {
  await runOperator(['--tenant-ca', 'cert-manager']);
  const ns = await interceptingNamespace('cm', 'certs');
  await wait('the operator to say the Secret is missing', async () => op!.logs().includes('kube-dlp-ca-certs not found'));
  t.equal(await nsSecret(ns), undefined, 'no copy without a CA');
  // What cert-manager writes for a self-signed CA Certificate (config/certmanager).
  const ca = await InterceptCa.create({ commonName: 'cert-manager tenant CA', lifetimeMs: 90 * 86_400_000 });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const written = await tp.admin.create(
    SECRETS,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'kube-dlp-ca-certs', namespace: OPERATOR_NS, annotations: { 'cert-manager.io/certificate-name': 'kube-dlp-ca-certs' } },
      data: { 'tls.crt': b64(ca.certPem), 'tls.key': b64(ca.keyPem), 'ca.crt': b64(ca.certPem) },
    } as KubeObject,
    OPERATOR_NS,
  );
  const copy = await wait('the copy of the cert-manager CA', () => nsSecret(ns));
  t.equal(fp(text(copy, 'tls.crt')), fp(ca.certPem));
  t.same(fingerprints(text(await wait('trust bundle', () => trustMap(ns)), 'ca.crt')), [fp(ca.certPem)]);
  await new Promise((r) => setTimeout(r, 1000)); // a few check intervals
  t.equal((await tenantSecret('certs'))!.metadata.resourceVersion, written.metadata.resourceVersion, 'the operator never wrote it');
});

t.test('upstreamCA.configMapRef is resolved into the rendered profile; a missing ConfigMap keeps the last good rendering', async (t) => {
  if (!op || op.child.exitCode !== null) await runOperator([]);
  const ns = await createNamespace(tp.admin, 'upstream', { 'kubedlp.io/inject': 'enabled' });
  const root = await InterceptCa.create({ commonName: 'private upstream root', lifetimeMs: 86_400_000 });
  await tp.admin.create(CONFIG_MAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'private-roots', namespace: ns }, data: { 'roots.pem': root.certPem } } as KubeObject, ns);
  await applyProfile(tp.admin, securityProfile(ns, 'default', { mode: 'Protect', tls: { upstreamCA: { configMapRef: { name: 'private-roots', key: 'roots.pem' } } } }));
  const rendered = await wait('the rendered profile with the resolved bundle', async () => {
    const text = (await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', ns))?.data as Record<string, string> | undefined;
    return text?.['profile.yaml']?.includes('BEGIN CERTIFICATE') ? text['profile.yaml'] : undefined;
  });
  t.match(rendered, /upstreamCA:\n\s+pem: \|/);
  await t.rejects(
    applyProfile(tp.admin, securityProfile(ns, 'default', { mode: 'Protect', tls: { upstreamCA: { pem: root.certPem, configMapRef: { name: 'private-roots' } } } })),
    /exactly one of pem or configMapRef/,
    'the API server refuses both at once',
  );
  await applyProfile(tp.admin, securityProfile(ns, 'default', { mode: 'Monitor', tls: { upstreamCA: { configMapRef: { name: 'no-such-roots' } } } }));
  await wait('the operator to report the missing ConfigMap', async () => op!.logs().includes(`ConfigMap ${ns}/no-such-roots not found`));
  const kept = ((await getOrUndefined(tp.admin, CONFIG_MAPS, 'kube-dlp-profile', ns))?.data as Record<string, string>)['profile.yaml'];
  t.match(kept, /mode: Protect/, 'the last good rendering stays');
});
