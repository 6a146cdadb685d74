// Webhook TLS: certificates made in-process (@peculiar/x509) and read with X509Certificate,
// the Secret layout, and the rotation plan's steps and waits.
import t from 'tap';
import { certificateInfo, issuedBy, joinPemBundle, keyMatches, splitPemBundle } from '../../operator/certs/certificate-info';
import { createCertificateAuthority, issueServingCertificate, type KeyPair } from '../../operator/certs/issue-certificates';
import { planRotation, servingDays, type RotationPolicy } from '../../operator/certs/rotation-plan';
import { materialFromSecret, readState, secretFromMaterial, type TlsMaterial } from '../../operator/certs/tls-secret';
import { CertificateIssueError } from '../../operator/errors';

const DAY = 86_400_000;
const policy: RotationPolicy = {
  caValidityDays: 30,
  servingValidityDays: 9,
  renewFraction: 1 / 3,
  propagationMs: 60_000,
  dnsNames: ['kube-dlp-webhook.kube-dlp-system.svc'],
  ipAddresses: [],
};

let made: { ca: KeyPair; ca2: KeyPair; serving: KeyPair; serving2: KeyPair } | undefined;
async function pki() {
  if (made) return made;
  const ca = await createCertificateAuthority('test-ca-1', policy.caValidityDays);
  const ca2 = await createCertificateAuthority('test-ca-2', policy.caValidityDays);
  const req = { commonName: 'kube-dlp-webhook', dnsNames: policy.dnsNames, validityDays: policy.servingValidityDays };
  made = { ca, ca2, serving: await issueServingCertificate(ca, req), serving2: await issueServingCertificate(ca2, req) };
  return made;
}

t.test('makes a CA and a serving certificate that node:crypto reads back', async (t) => {
  const { ca, serving, ca2 } = await pki();
  const caInfo = certificateInfo(ca.certPem);
  const leaf = certificateInfo(serving.certPem);
  t.ok(caInfo.isCa);
  t.notOk(leaf.isCa);
  t.same(leaf.dnsNames, policy.dnsNames);
  t.ok(issuedBy(leaf, caInfo));
  t.notOk(issuedBy(leaf, certificateInfo(ca2.certPem)), 'not by another CA');
  t.ok(keyMatches(leaf, serving.keyPem));
  t.notOk(keyMatches(leaf, ca.keyPem));
  t.equal(Math.round((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / DAY), policy.servingValidityDays);
  t.same(splitPemBundle(joinPemBundle([ca.certPem, ca2.certPem])).map((p) => certificateInfo(p).fingerprint), [caInfo.fingerprint, certificateInfo(ca2.certPem).fingerprint]);
});

t.test('names, SANs and validity are checked before anything is signed', async (t) => {
  const { ca } = await pki();
  await t.rejects(createCertificateAuthority('bad/name', 1), CertificateIssueError);
  await t.rejects(issueServingCertificate(ca, { commonName: 'x', dnsNames: ['a,DNS:evil'], validityDays: 1 }), CertificateIssueError);
  await t.rejects(issueServingCertificate(ca, { commonName: 'x', dnsNames: [], validityDays: 1 }), /at least one/);
  await t.rejects(createCertificateAuthority('ok', 0), /whole number of days/);
  await t.rejects(issueServingCertificate(ca, { commonName: 'x', dnsNames: [], ipAddresses: ['10.0.0.300'], validityDays: 1 }), /not an IP address/);
  await t.rejects(issueServingCertificate({ certPem: ca.certPem, keyPem: 'not a key' }, { commonName: 'x', dnsNames: ['a'], validityDays: 1 }), CertificateIssueError);
});

t.test('IP SANs, CA-only key usage, and no key material in the certificates', async (t) => {
  const { ca } = await pki();
  const ip = await issueServingCertificate(ca, { commonName: 'webhook', dnsNames: [], ipAddresses: ['127.0.0.1', '::1'], validityDays: 2 });
  const info = certificateInfo(ip.certPem);
  t.ok(info.ipAddresses.includes('127.0.0.1'));
  t.equal(info.ipAddresses.length, 2);
  t.ok(issuedBy(info, certificateInfo(ca.certPem)));
  for (const pem of [ca.certPem, ip.certPem]) t.notMatch(pem, /PRIVATE KEY/);
  t.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

function material(over: Partial<TlsMaterial>, base: { ca: KeyPair; serving: KeyPair }, changedAt = new Date(0)): TlsMaterial {
  return { serving: base.serving, trusted: [base.ca.certPem], signing: base.ca, changedAt, ...over };
}

t.test('the Secret round-trips, and an inconsistent one is reported', async (t) => {
  const p = await pki();
  const m = material({ trusted: [p.ca.certPem, p.ca2.certPem], next: p.ca2 }, p, new Date('2030-01-02T03:04:05Z'));
  const secret = secretFromMaterial(m, 'ops') as unknown as { type: string; data: Record<string, string>; metadata: { annotations: Record<string, string> } };
  t.equal(secret.type, 'kubernetes.io/tls');
  t.same(materialFromSecret(secret), m);
  t.same(readState(m).problems, []);
  t.same(readState(material({ serving: { certPem: p.serving.certPem, keyPem: p.ca.keyPem } }, p)).problems, ['tls.key does not belong to tls.crt']);
  t.same(readState(material({ trusted: [p.ca2.certPem] }, p)).problems, ['the signing CA is not in ca.crt', 'tls.crt is not issued by any CA in ca.crt']);
  t.throws(() => materialFromSecret({ data: {} }), /missing tls.crt/);
});

t.test('rotation plan: nothing to do, renewals, and the three CA steps with their waits', async (t) => {
  const p = await pki();
  const caInfo = certificateInfo(p.ca.certPem);
  const servingInfo = certificateInfo(p.serving.certPem);
  const fresh = readState(material({}, p));
  const at = (ms: number) => new Date(caInfo.notBefore.getTime() + ms);
  const plan = (state = fresh, now = at(DAY), extra: { bundlePublished?: boolean; forceCaRotation?: boolean } = {}) =>
    planRotation({ state, now, policy, bundlePublished: extra.bundlePublished ?? true, forceCaRotation: extra.forceCaRotation });

  t.match(planRotation({ state: undefined, now: new Date(), policy, bundlePublished: false }), { kind: 'create' });
  t.same(plan(), { kind: 'none' });
  t.match(plan(fresh, new Date(servingInfo.notAfter.getTime() - 2 * DAY)), { kind: 'renew-serving' }, 'serving certificate in its last third');
  t.match(plan(fresh, new Date(caInfo.notAfter.getTime() - 5 * DAY)), { kind: 'add-next-ca' }, 'CA in its last third');
  t.match(plan(fresh, at(DAY), { forceCaRotation: true }), { kind: 'add-next-ca', why: 'CA rotation requested' });
  t.match(plan(fresh, new Date(caInfo.notAfter.getTime() + 1000)), { kind: 'create', why: /expired/ });
  t.match(plan(readState(material({}, p)), at(DAY)), { kind: 'none' });
  t.match(
    planRotation({ state: fresh, now: at(DAY), policy: { ...policy, dnsNames: ['other.svc'] }, bundlePublished: true }),
    { kind: 'renew-serving', why: /other hosts/ },
  );

  // 1 -> 2: the next CA is trusted; switching waits for publication and propagation.
  const changed = at(DAY);
  const withNext = readState(material({ trusted: [p.ca.certPem, p.ca2.certPem], next: p.ca2 }, p, changed));
  t.match(plan(withNext, new Date(changed.getTime() + 2 * policy.propagationMs), { bundlePublished: false }), { kind: 'wait', why: /not yet in the webhook configuration/ });
  t.match(plan(withNext, new Date(changed.getTime() + 1000)), { kind: 'wait', why: /picking up/ });
  t.match(plan(withNext, new Date(changed.getTime() + policy.propagationMs)), { kind: 'switch-to-next-ca' });

  // 2 -> 3: serving from the new CA, the old one still trusted until replicas caught up.
  const switched = readState({ serving: p.serving2, trusted: [p.ca.certPem, p.ca2.certPem], signing: p.ca2, changedAt: changed });
  t.same(switched.problems, []);
  t.match(plan(switched, new Date(changed.getTime() + 1000)), { kind: 'wait', why: /replicas are switching/ });
  t.match(plan(switched, new Date(changed.getTime() + policy.propagationMs)), { kind: 'drop-old-cas' });
  const done = readState({ serving: p.serving2, trusted: [p.ca2.certPem], signing: p.ca2, changedAt: changed });
  t.same(plan(done, new Date(changed.getTime() + policy.propagationMs)), { kind: 'none' });
});

t.test('a serving certificate never outlives its CA', async (t) => {
  const now = new Date('2030-01-01T00:00:00Z');
  t.equal(servingDays(policy, new Date(now.getTime() + 100 * DAY), now), 9);
  t.equal(servingDays(policy, new Date(now.getTime() + 4.5 * DAY), now), 4);
  t.equal(servingDays(policy, new Date(now.getTime() + 0.5 * DAY), now), 1);
});
