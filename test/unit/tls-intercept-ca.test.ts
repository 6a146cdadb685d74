import t from 'tap';
import fc from 'fast-check';
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import tls from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { InterceptCa, sharedLeafExtensions } from '../../proxy/tls/intercept-ca';
import { InterceptError } from '../../proxy/tls/errors';
import { LeafCache } from '../../proxy/tls/leaf-cache';
import { P256, P256_SHA256, subtle, toPem, x509, type CryptoKeyPair } from '../../proxy/tls/x509';

const DAY = 24 * 60 * 60 * 1000;

t.test('a created CA loads and mints leaves that verify against it, with the host as SAN', async (t) => {
  const material = await InterceptCa.create({ commonName: 'tenant-a CA', lifetimeMs: 30 * DAY });
  const ca = await InterceptCa.load(material);
  const caCert = new X509Certificate(material.certPem);
  t.ok(caCert.ca, 'CA:TRUE');
  t.equal(createPrivateKey(material.keyPem).asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.match(ca.subject, /CN=tenant-a CA/);

  const leaf = await ca.mint('api.example.com');
  const [leafPem] = leaf.chainPem.split(/(?<=-----END CERTIFICATE-----)\n/);
  const cert = new X509Certificate(leafPem!);
  t.notOk(cert.ca);
  t.ok(cert.verify(caCert.publicKey), 'signed by the CA');
  t.ok(cert.checkIssued(caCert));
  t.equal(cert.subjectAltName, 'DNS:api.example.com');
  t.equal(cert.checkHost('api.example.com'), 'api.example.com');
  t.equal(cert.checkHost('other.example.com'), undefined);
  const lifetime = Date.parse(cert.validTo) - Date.now();
  t.ok(lifetime <= DAY && lifetime > DAY - 120_000, `valid about 24 h (${lifetime} ms)`);
  t.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)), 'key matches the leaf');
  t.equal(leaf.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 1, 'a self-signed CA is the trust anchor clients hold: not sent');
  t.notOk(leaf.chainPem.includes(material.certPem.trim()));
  t.equal(cert.serialNumber.length, 32, '128-bit serial');
  t.ok(Number.parseInt(cert.serialNumber.slice(0, 2), 16) < 0x80, 'positive serial');
  t.equal(cert.subject, 'CN=api.example.com');
  t.equal(cert.issuer, caCert.subject);
  t.same(cert.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth (Node reports the extended key usage as keyUsage)');
  // Node's TLS stack accepts it as a server identity.
  t.doesNotThrow(() => tls.createSecureContext({ cert: leaf.chainPem, key: leaf.keyPem }));
});

t.test('a CA issued by another (cert-manager under a company root) is sent after the leaf; a client trusting only the root accepts it', async (t) => {
  const rootKeys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=company root',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys: rootKeys,
    signingAlgorithm: P256_SHA256,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '0a1b2c',
    subject: 'CN=tenant-b issuing CA',
    issuer: root.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 10 * DAY),
    publicKey: keys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: P256_SHA256,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const material = { certPem: intermediate.toString('pem'), keyPem: toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
  const ca = await InterceptCa.load(material);
  const leaf = await ca.mint('api.example.com');
  t.equal(leaf.chainPem.match(/BEGIN CERTIFICATE/g)?.length, 2, 'leaf and issuing CA');
  t.ok(leaf.chainPem.includes(material.certPem.trim()));

  const server = tls.createServer({ cert: leaf.chainPem, key: leaf.keyPem }, (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as import('node:net').AddressInfo).port;
  const authorized = await new Promise<boolean>((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, servername: 'api.example.com', ca: root.toString('pem') }, () => {
      resolve(c.authorized);
      c.destroy();
    });
    c.once('error', reject);
  });
  t.ok(authorized, 'the path leaf -> issuing CA -> root verifies');
});

t.test('the leaf extensions are the bytes @peculiar/x509 builds for them', async (t) => {
  const material = await InterceptCa.create({ commonName: 'tenant-c CA', lifetimeMs: DAY });
  const caCert = new x509.X509Certificate(material.certPem);
  const expected = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ];
  const ours = sharedLeafExtensions(AsnConvert.parse(caCert.rawData, Certificate));
  t.same(
    ours.map((e) => Buffer.from(AsnConvert.serialize(e)).toString('hex')),
    expected.map((e) => Buffer.from(e.rawData).toString('hex')),
  );

  // A CA without a subject key identifier: SHA-1 of its key, as x509 computes it.
  const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const bare = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '03',
    name: 'CN=CA without a key identifier',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY),
    keys,
    signingAlgorithm: P256_SHA256,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  t.notOk(bare.getExtension(x509.SubjectKeyIdentifierExtension), 'precondition: no SKI');
  const [, , , aki] = sharedLeafExtensions(AsnConvert.parse(bare.rawData, Certificate));
  t.equal(Buffer.from(AsnConvert.serialize(aki!)).toString('hex'), Buffer.from((await x509.AuthorityKeyIdentifierExtension.create(bare, false)).rawData).toString('hex'));
});

t.test('a minted leaf is byte for byte what the library encodes for the same certificate, for any host and SAN list', async (t) => {
  // mint() writes the Certificate envelope around the TBS bytes it signed;
  // the library re-encoding the parsed certificate must give the same DER
  // (lengths in short and long form: the SAN list moves them across 128 and 256).
  const ca = await InterceptCa.load(await InterceptCa.create({ commonName: 'tenant-d CA', lifetimeMs: DAY }));
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
  const dnsName = fc.array(label, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('.'));
  const host = fc.oneof(dnsName, fc.ipV4(), fc.ipV6());
  await fc.assert(
    fc.asyncProperty(host, fc.array(host, { maxLength: 12 }), async (first, more) => {
      const leaf = await ca.mint(first, new Date(), more);
      const der = new X509Certificate(leaf.chainPem).raw;
      const reencoded = Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate)));
      return reencoded.equals(der) && new X509Certificate(der).verify(new X509Certificate(ca.certPem).publicKey);
    }),
    { numRuns: 150 },
  );
});

t.test('a CA whose key identifier is not SHA-1 of its key (RFC 7093, company PKIs) still chains: the leaf names its identifier', async (t) => {
  const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const keyId = '5d2a7c0e9b81f4a3c6d0e7f1a2b3c4d5e6f70819';
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '02',
    name: 'CN=company-made tenant CA',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: P256_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
      new x509.SubjectKeyIdentifierExtension(keyId),
    ],
  });
  const ca = await InterceptCa.load({ certPem: caCert.toString('pem'), keyPem: toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') });
  const leaf = new x509.X509Certificate((await ca.mint('api.example.com')).chainPem);
  t.equal(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, keyId);
  // OpenSSL (what Node, curl and Python verify with) refuses an issuer whose
  // subject key identifier differs from the leaf's authority key identifier.
  t.ok(new X509Certificate(leaf.toString('pem')).checkIssued(new X509Certificate(caCert.toString('pem'))), 'OpenSSL accepts the CA as the issuer');
});

t.test('IP literals get an IP SAN', async (t) => {
  const ca = await InterceptCa.load(await InterceptCa.create({ commonName: 'ip CA', lifetimeMs: DAY * 2 }));
  for (const ip of ['10.1.2.3', '2001:db8::1']) {
    const leaf = await ca.mint(ip);
    const cert = new X509Certificate(leaf.chainPem.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----');
    t.equal(cert.checkIP(ip), ip, ip);
  }
  // IPv6 written with an IPv4 tail (a dual-stack client's CONNECT [::ffff:10.0.0.1]:443) is the
  // same address; the library's encoder refuses that notation, so mint() must not pass it through.
  for (const ip of ['::ffff:10.0.0.1', '64:ff9b::192.0.2.33', '0:0:0:0:0:0:0.0.0.0']) {
    const leaf = await ca.mint(ip);
    const cert = new X509Certificate(leaf.chainPem);
    t.equal(cert.checkIP(ip), ip, `${ip}: the client's own form matches`);
  }
});

t.test('a leaf never outlives its CA', async (t) => {
  const ca = await InterceptCa.load(await InterceptCa.create({ commonName: 'short CA', lifetimeMs: 60 * 60 * 1000 }));
  const leaf = await ca.mint('a.example');
  t.ok(leaf.notAfter.getTime() <= ca.notAfter.getTime());
});

t.test('unusable CA material is refused with the reason', async (t) => {
  const good = await InterceptCa.create({ commonName: 'good', lifetimeMs: DAY });
  const other = await InterceptCa.create({ commonName: 'other', lifetimeMs: DAY });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const cases: Array<[string, { certPem: string; keyPem: string }, RegExp]> = [
    ['not a certificate', { certPem: 'nope', keyPem: good.keyPem }, /not a PEM certificate/],
    ['key of another CA', { certPem: good.certPem, keyPem: other.keyPem }, /does not match/],
    ['RSA key', { certPem: good.certPem, keyPem: rsa }, /ECDSA P-256/],
    ['garbage key', { certPem: good.certPem, keyPem: 'garbage' }, /not a PEM private key/],
  ];
  for (const [name, material, message] of cases) {
    const err = await InterceptCa.load(material).catch((e: unknown) => e);
    t.type(err, InterceptError, name);
    t.equal((err as InterceptError).code, 'KDLP_INTERCEPT_CA_INVALID', name);
    t.match((err as Error).message, message, name);
    t.notOk((err as Error).message.includes('PRIVATE KEY'), 'no key material in the message');
  }
  const leafAsCa = await InterceptCa.load(good).then((ca) => ca.mint('x.example'));
  const notCa = await InterceptCa.load({ certPem: leafAsCa.chainPem, keyPem: leafAsCa.keyPem }).catch((e: unknown) => e);
  t.match((notCa as Error).message, /not a CA certificate/);
});

t.test('leaf cache: one mint per host, bounded, cleared on rotation, renewed near expiry', async (t) => {
  const ca = await InterceptCa.load(await InterceptCa.create({ commonName: 'cache CA', lifetimeMs: 10 * DAY }));
  let prepared = 0;
  let clock = Date.now();
  const cache = new LeafCache((leaf) => ({ n: ++prepared, leaf }), { maxEntries: 2, now: () => clock });
  const [a1, a2] = await Promise.all([cache.get(ca, 'a.example'), cache.get(ca, 'a.example')]);
  t.equal(a1, a2, 'concurrent handshakes share one mint');
  t.equal(prepared, 1);
  t.equal(await cache.get(ca, 'a.example'), a1, 'cached');
  await cache.get(ca, 'b.example');
  await cache.get(ca, 'a.example'); // a is now most recent
  await cache.get(ca, 'c.example'); // evicts b
  t.equal(cache.size, 2);
  const before = prepared;
  await cache.get(ca, 'a.example');
  t.equal(prepared, before, 'a survived eviction (recently used)');
  await cache.get(ca, 'b.example');
  t.equal(prepared, before + 1, 'b was evicted and re-minted');

  clock += 23.5 * 60 * 60 * 1000;
  const renewed = await cache.get(ca, 'b.example');
  t.equal(prepared, before + 2, 'a leaf within an hour of expiry is re-minted');
  t.ok(renewed.leaf.notAfter.getTime() > clock + 23 * 60 * 60 * 1000);

  const rotated = await InterceptCa.load(await InterceptCa.create({ commonName: 'next CA', lifetimeMs: 10 * DAY }));
  const fromNew = await cache.get(rotated, 'b.example');
  t.ok(fromNew.leaf.chainPem.includes('-----BEGIN CERTIFICATE-----'));
  t.not(fromNew, renewed, 'a different CA never reuses the old CA leaf');
});
