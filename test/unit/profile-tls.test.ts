// spec.tls: defaults, bypass globs, upstream CA bundles, and what the
// interceptor makes of them (bypass matching, upstream roots).
import t from 'tap';
import tls from 'node:tls';
import { parseProfile, ProfileError } from '../../proxy/profile';
import { isBypassed } from '../../proxy/tls/bypass';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { UpstreamTrust } from '../../proxy/tls/upstream-trust';
import { InterceptError } from '../../proxy/tls/errors';

const rendered = (spec: string) => `apiVersion: kubedlp.io/v1alpha1\nkind: RenderedProfile\nprofile: {name: p}\nspec:\n${spec}`;
const indent = (pem: string, n: number) => pem.trim().split('\n').map((l) => ' '.repeat(n) + l).join('\n');

t.test('interception is off by default, with no bypass and no extra roots', async (t) => {
  const cfg = parseProfile(rendered('  mode: Protect\n'));
  t.same(cfg.spec.tls, { intercept: 'Disabled', bypass: [] });
});

t.test('bypass: exact names and sub-domain globs, case-insensitive', async (t) => {
  const cfg = parseProfile(rendered('  tls:\n    intercept: Enabled\n    bypass: [Pinned.Example.com, "*.bank.example"]\n'));
  t.ok(isBypassed(cfg, 'pinned.example.com'));
  t.ok(isBypassed(cfg, 'PINNED.example.com.'));
  t.notOk(isBypassed(cfg, 'other.example.com'));
  t.ok(isBypassed(cfg, 'api.bank.example'));
  t.notOk(isBypassed(cfg, 'bank.example'), '"*.x" matches sub-domains only, like egress rules');
  t.notOk(isBypassed(cfg, 'evilbank.example'));
});

t.test('bad tls settings are reported with their paths', async (t) => {
  let err: unknown;
  try {
    parseProfile(rendered('  tls:\n    intercept: Sometimes\n    bypass: ["*", "a.example", "a.example", "10.0.0.1"]\n    upstreamCA:\n      pem: not a certificate\n'));
  } catch (e) {
    err = e;
  }
  t.type(err, ProfileError);
  const issues = Object.fromEntries((err as ProfileError).issues.map((i) => [i.path, i.message]));
  t.match(issues, {
    'spec.tls.intercept': /Enabled|Disabled/,
    'spec.tls.bypass[0]': /"\*" alone/,
    'spec.tls.bypass[2]': /duplicate/,
    'spec.tls.bypass[3]': /IP addresses/,
    'spec.tls.upstreamCA.pem': /no PEM certificate/,
  });
});

t.test('upstream roots: system roots, plus the file, plus the profile bundle', async (t) => {
  const a = await InterceptCa.create({ commonName: 'file CA', lifetimeMs: 86_400_000 });
  const b = await InterceptCa.create({ commonName: 'profile CA', lifetimeMs: 86_400_000 });
  const dir = t.testdir({ 'extra.pem': a.certPem, 'junk.pem': 'nothing here' });
  const trust = new UpstreamTrust(`${dir}/extra.pem`);
  const plain = parseProfile(rendered('  mode: Protect\n'));
  const withCa = parseProfile(rendered(`  tls:\n    upstreamCA:\n      pem: |\n${indent(b.certPem, 8)}\n`));
  const base = trust.rootsFor(plain);
  t.equal(base.length, tls.rootCertificates.length + 1);
  t.ok(base.some((c) => c.trim() === a.certPem.trim()));
  const extended = trust.rootsFor(withCa);
  t.equal(extended.length, base.length + 1);
  t.ok(extended.some((c) => c.trim() === b.certPem.trim()));
  t.equal(trust.rootsFor(withCa), extended, 'computed once per profile');
  const context = trust.contextFor(withCa);
  t.equal(trust.contextFor(withCa), context, 'one SecureContext per profile, not one per connection');
  t.not(trust.contextFor(plain), context, 'other roots, other context');

  t.throws(() => new UpstreamTrust(`${dir}/missing.pem`), InterceptError);
  t.throws(() => new UpstreamTrust(`${dir}/junk.pem`), { code: 'KDLP_UPSTREAM_CA_INVALID', message: /no PEM certificate/ });
});
