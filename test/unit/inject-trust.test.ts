// Trust injection for namespaces that intercept TLS: the CA key reaches the
// proxy only, every app container gets the certificates and the CA variables
// (its own values kept), in every capture mode and sidecar kind, idempotently;
// and the combined bundle the init container writes.
import t from 'tap';
import fc from 'fast-check';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_INJECTION_CONFIG, injectPod } from '../../operator/inject/inject';
import type { Container, Pod, Volume, VolumeMount } from '../../operator/inject/pod';
import type { PodOverrides } from '../../operator/inject/pod-annotations';
import { loadTemplate, TLS_TEMPLATE_SECTIONS } from '../../operator/inject/render-template';
import { writeTrustBundle } from '../../cli/trust-bundle-command';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { TemplateError } from '../../operator/errors';

const template = loadTemplate();
const CA_VOLUME = 'kube-dlp-intercept-ca';
const TRUST_ENV = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'NODE_EXTRA_CA_CERTS'];
const all = (p: Pod): Container[] => [...(p.spec.initContainers ?? []), ...p.spec.containers];
const mounts = (c: Container) => (c.volumeMounts as VolumeMount[] | undefined) ?? [];

t.test('the CA Secret is mounted into the proxy only; apps get certificates and variables', async (t) => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.constantFrom<PodOverrides['captureMode']>('explicit', 'transparent'),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 2 }),
      fc.boolean(),
      (native, captureMode, apps, inits, ownBundle) => {
        const pod: Pod = {
          metadata: { name: 'p', namespace: 'shop' },
          spec: {
            initContainers: Array.from({ length: inits }, (_, i) => ({ name: `init-${i}`, image: 'busybox' })),
            containers: Array.from({ length: apps }, (_, i) => ({
              name: `app-${i}`,
              image: 'app',
              ...(ownBundle && i === 0 ? { env: [{ name: 'SSL_CERT_FILE', value: '/mine.pem' }] } : {}),
            })),
          },
        };
        // A fixed uid: the property checks idempotence, which holds apart from the drawn uid (inject-template.test.ts).
        const config = { ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: native, chooseProxyUid: () => 1234567 };
        const target = { tenant: 'shop', overrides: { captureMode, excludePorts: [], excludeCidrs: [] }, interceptTls: true };
        const out = injectPod(pod, template, config, target);
        const proxy = all(out).find((c) => c.name === 'kube-dlp-proxy')!;
        if (!(proxy.args as string[]).includes('--intercept-ca-dir=/etc/kube-dlp/intercept-ca')) return false;
        if (!mounts(proxy).some((m) => m.name === CA_VOLUME)) return false;
        // Nobody else sees the key.
        for (const c of all(out)) if (c !== proxy && mounts(c).some((m) => m.name === CA_VOLUME)) return false;
        const volume = (out.spec.volumes as Volume[]).find((v) => v.name === CA_VOLUME) as { secret?: { secretName?: string } };
        if (volume?.secret?.secretName !== 'kube-dlp-intercept-ca') return false;
        // Every app container (and the pod's own init containers with a native sidecar) trusts the CA.
        const trusting = [...out.spec.containers.filter((c) => c.name.startsWith('app-')), ...(native ? (out.spec.initContainers ?? []).filter((c) => c.name.startsWith('init-')) : [])];
        for (const c of trusting) {
          if (!mounts(c).some((m) => m.name === 'kube-dlp-ca-bundle' && m.readOnly === true)) return false;
          for (const name of TRUST_ENV) if ((c.env ?? []).filter((e) => e.name === name).length !== 1) return false;
        }
        if (ownBundle && out.spec.containers.find((c) => c.name === 'app-0')!.env!.find((e) => e.name === 'SSL_CERT_FILE')!.value !== '/mine.pem') return false;
        // The bundle is built before anything of the pod's own runs.
        const initNames = (out.spec.initContainers ?? []).map((c) => c.name);
        const trustAt = initNames.indexOf('kube-dlp-trust');
        if (trustAt < 0 || initNames.slice(0, trustAt).some((n) => n.startsWith('init-'))) return false;
        // Idempotent.
        return JSON.stringify(injectPod(out, template, config, target)) === JSON.stringify(out);
      },
    ),
    { seed: 12, numRuns: 64 },
  );
  t.pass('property held');
});

t.test('without interception nothing of the trust is added', async (t) => {
  const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x' }] } };
  const out = injectPod(pod, template, { ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: true }, { tenant: 's', overrides: { captureMode: 'explicit', excludePorts: [], excludeCidrs: [] } });
  t.notMatch(JSON.stringify(out), /intercept-ca|kube-dlp-trust|SSL_CERT_FILE/);
});

t.test('a custom template without the TLS sections fails only pods that need them', async (t) => {
  const bare = Object.fromEntries(Object.entries(template).filter(([k]) => !(TLS_TEMPLATE_SECTIONS as readonly string[]).includes(k)));
  const pod: Pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'x' }] } };
  const config = { ...DEFAULT_INJECTION_CONFIG, image: 'img:1', nativeSidecars: true };
  const overrides: PodOverrides = { captureMode: 'explicit', excludePorts: [], excludeCidrs: [] };
  t.doesNotThrow(() => injectPod(pod, bare, config, { tenant: 's', overrides }));
  t.throws(() => injectPod(pod, bare, config, { tenant: 's', overrides, interceptTls: true }), TemplateError);
});

t.test('trust-bundle writes tenant CAs plus system roots, and refuses what is not a CA', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kdlp-trust-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const a = await InterceptCa.create({ commonName: 'tenant a', lifetimeMs: 86_400_000 });
  const b = await InterceptCa.create({ commonName: 'tenant b', lifetimeMs: 86_400_000 });
  const ca = await InterceptCa.load(a);
  const leaf = await ca.mint('api.example.com');
  await writeFile(join(dir, 'ca.crt'), a.certPem + b.certPem);
  await writeFile(join(dir, 'system.pem'), b.certPem);
  const out = join(dir, 'bundle.pem');
  const summary = await writeTrustBundle({ ca: join(dir, 'ca.crt'), out, systemRoots: [join(dir, 'system.pem')] });
  t.match(summary, /2 tenant CA\(s\)/);
  t.notMatch(summary, /PRIVATE/);
  const text = await readFile(out, 'utf8');
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!;
  t.ok(certs.length > 100, 'the system roots are in it');
  t.equal(certs.filter((c) => c.trim() === b.certPem.trim()).length, 1, 'a CA in both places appears once');
  t.notMatch(text, /PRIVATE KEY/);
  // The minted leaf verifies against a CA of the bundle.
  const leafCert = new X509Certificate(leaf.chainPem);
  t.ok(certs.some((c) => leafCert.verify(new X509Certificate(c).publicKey)), 'a leaf of the tenant CA chains to the bundle');
  await writeFile(join(dir, 'leaf.crt'), leaf.chainPem.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n');
  await t.rejects(writeTrustBundle({ ca: join(dir, 'leaf.crt'), out }), /not a CA/);
  await t.rejects(writeTrustBundle({ ca: join(dir, 'missing.crt'), out }), /cannot read \(ENOENT\)/);
  await writeFile(join(dir, 'empty.crt'), 'nothing here');
  await t.rejects(writeTrustBundle({ ca: join(dir, 'empty.crt'), out }), /no PEM certificate/);
});
