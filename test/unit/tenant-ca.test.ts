// The tenant interception CA: its Secret layout (self-managed and as
// cert-manager writes it) and the rotation plan, step by step on a fake clock.
import t from 'tap';
import { InterceptCa } from '../../proxy/tls/intercept-ca';
import { certificateInfo } from '../../operator/certs/certificate-info';
import { planTenantCa, type TenantCaPolicy } from '../../operator/tls-ca/tenant-ca-plan';
import { isUsable, readTenantCa, tenantCaSecret, type TenantCaMaterial } from '../../operator/tls-ca/tenant-ca-secret';
import { tenantCaSecretName } from '../../operator/tls-ca/names';

const DAY = 86_400_000;
const policy: TenantCaPolicy = { lifetimeMs: 30 * DAY, renewFraction: 1 / 3, overlapMs: 2 * DAY };
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);

const read = (m: TenantCaMaterial, annotations: Record<string, string> = {}) => {
  const s = tenantCaSecret('shop', 'kube-dlp-system', m) as unknown as { data: Record<string, string>; metadata: { annotations: Record<string, string> } };
  return readTenantCa({ data: s.data, metadata: { annotations: { ...s.metadata.annotations, ...annotations } } });
};

t.test('Secret name, type and round trip; a broken Secret is a problem, not a throw', async (t) => {
  const ca = await InterceptCa.create({ commonName: 'tenant shop', lifetimeMs: policy.lifetimeMs, now: T0 });
  t.equal(tenantCaSecretName('Shop_1'), 'kube-dlp-ca-shop-1');
  const secret = tenantCaSecret('shop', 'ops', { signing: ca, trusted: [ca.certPem], changedAt: T0 });
  t.equal(secret.type, 'kubernetes.io/tls');
  t.equal(secret.metadata.labels?.['kubedlp.io/tenant-ca'], 'shop');
  const state = read({ signing: ca, trusted: [ca.certPem], changedAt: T0 });
  t.ok(isUsable(state));
  if (!isUsable(state)) return;
  t.same(state.problems, []);
  t.equal(state.material.changedAt.toISOString(), T0.toISOString());
  t.same(readTenantCa({ data: {} }).problems, ['the Secret has no tls.crt or tls.key']);
  const other = await InterceptCa.create({ commonName: 'other', lifetimeMs: DAY, now: T0 });
  const mixed = read({ signing: { certPem: ca.certPem, keyPem: other.keyPem }, trusted: [other.certPem], changedAt: T0 });
  t.same(mixed.problems, ['tls.key does not belong to tls.crt', 'the signing CA is not in ca.crt']);
});

t.test('a cert-manager Secret: tls.crt is trusted even when ca.crt is absent, and it is never rotated here', async (t) => {
  const ca = await InterceptCa.create({ commonName: 'from cert-manager', lifetimeMs: policy.lifetimeMs, now: T0 });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const state = readTenantCa({ data: { 'tls.crt': b64(ca.certPem), 'tls.key': b64(ca.keyPem) }, metadata: { annotations: { 'cert-manager.io/certificate-name': 'shop-ca' } } });
  t.ok(isUsable(state) && state.external);
  t.same(state.problems, []);
  t.same(planTenantCa(state, at(29), policy), { kind: 'none' }, 'near expiry: cert-manager renews, not us');
  t.match(planTenantCa(state, at(31), policy), { kind: 'unusable', why: /expired/ });
  const broken = readTenantCa({ data: { 'tls.crt': b64(ca.certPem) }, metadata: { annotations: { 'cert-manager.io/certificate-name': 'shop-ca' } } });
  t.match(planTenantCa(broken, at(1), policy), { kind: 'unusable', why: /no tls.crt or tls.key/ });
});

t.test('rotation: add the next CA, wait, switch, wait, drop the old one', async (t) => {
  const a = await InterceptCa.create({ commonName: 'ca a', lifetimeMs: policy.lifetimeMs, now: T0 });
  const b = await InterceptCa.create({ commonName: 'ca b', lifetimeMs: policy.lifetimeMs, now: at(21) });
  t.match(planTenantCa(undefined, T0, policy), { kind: 'create' });
  const steady = read({ signing: a, trusted: [a.certPem], changedAt: T0 });
  t.same(planTenantCa(steady, at(10), policy), { kind: 'none' });
  t.match(planTenantCa(steady, at(10), policy, true), { kind: 'add-next', why: /requested/ });
  t.match(planTenantCa(steady, at(21), policy), { kind: 'add-next', why: /expires/ }, 'less than a third of its life left');
  const added = read({ signing: a, trusted: [a.certPem, b.certPem], next: b, changedAt: at(21) });
  t.match(planTenantCa(added, at(22), policy), { kind: 'wait', until: at(23) }, 'the next CA is trusted before it signs');
  t.match(planTenantCa(added, at(23), policy), { kind: 'switch' });
  const switched = read({ signing: b, trusted: [a.certPem, b.certPem], changedAt: at(23) });
  t.ok(isUsable(switched) && switched.signing.fingerprint === certificateInfo(b.certPem).fingerprint, 'the newest CA signs');
  t.match(planTenantCa(switched, at(24), policy), { kind: 'wait', until: at(25) }, 'both CAs are trusted while sidecars switch');
  t.match(planTenantCa(switched, at(25), policy), { kind: 'drop-old' });
  t.same(planTenantCa(read({ signing: b, trusted: [b.certPem], changedAt: at(25) }), at(26), policy), { kind: 'none' });
  t.match(planTenantCa(steady, at(31), policy), { kind: 'create', why: /expired/ }, 'an expired CA is replaced (nothing trusts it any more anyway)');
});
