// The interception CA: an ECDSA P-256 certificate and key (the layout of a
// kubernetes.io/tls Secret: tls.crt, tls.key) and the leaf certificates it
// signs for the hosts the sidecar intercepts.
//
// All leaves of one CA share one key pair, generated when the CA is loaded:
// minting is then one signature (well under a millisecond) instead of a key
// generation plus a signature, which is what keeps a first request to a new
// host cheap. The shared key never leaves the sidecar and is replaced with
// the CA.
import { X509Certificate as NodeX509, createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { InterceptError } from './errors';
import { P256, P256_SHA256, subtle, toPem, x509, type CryptoKey, type CryptoKeyPair } from './x509';

/** Leaves live a day: short enough that a leaked one expires soon, long enough to be cached. */
export const LEAF_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Clock skew between the sidecar and clients: leaves are valid from slightly in the past. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

export interface MintedLeaf {
  /** Leaf then CA certificate, PEM: what the TLS server presents. */
  chainPem: string;
  keyPem: string;
  notAfter: Date;
}

export class InterceptCa {
  private constructor(
    readonly certPem: string,
    /** SHA-256 of the CA certificate (DER), hex: identifies this CA in caches and logs. */
    readonly fingerprint: string,
    readonly subject: string,
    readonly notAfter: Date,
    private readonly caKey: CryptoKey,
    private readonly caCert: x509.X509Certificate,
    private readonly leafKeys: CryptoKeyPair,
    private readonly leafKeyPem: string,
    /** The extensions every leaf shares, built once per CA: what is left per mint is the SAN and one signature. */
    private readonly leafExtensions: x509.Extension[],
  ) {}

  /** Load a CA from PEM (tls.crt, tls.key). Throws InterceptError with the reason when unusable. */
  static async load(material: CaMaterial): Promise<InterceptCa> {
    let nodeCert: NodeX509;
    try {
      nodeCert = new NodeX509(material.certPem);
    } catch {
      throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.crt is not a PEM certificate');
    }
    if (!nodeCert.ca) throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.crt is not a CA certificate (basicConstraints CA:TRUE missing)');
    if (Date.parse(nodeCert.validTo) <= Date.now()) throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', `CA certificate expired on ${nodeCert.validTo}`);
    let pkcs8: Buffer;
    try {
      const key = createPrivateKey(material.keyPem);
      if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key must be an ECDSA P-256 key');
      }
      if (!nodeCert.checkPrivateKey(key)) throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key does not match tls.crt');
      pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    } catch (err) {
      if (err instanceof InterceptError) throw err;
      throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key is not a PEM private key');
    }
    const caKey = await subtle.importKey('pkcs8', pkcs8, P256, false, ['sign']);
    const leafKeys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leafKeyPem = toPem(await subtle.exportKey('pkcs8', leafKeys.privateKey), 'PRIVATE KEY');
    const fingerprint = createHash('sha256').update(nodeCert.raw).digest('hex');
    const caCert = new x509.X509Certificate(nodeCert.raw);
    const leafExtensions = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ];
    return new InterceptCa(
      material.certPem,
      fingerprint,
      nodeCert.subject.replace(/\n/g, ', '),
      new Date(nodeCert.validTo),
      caKey,
      caCert,
      leafKeys,
      leafKeyPem,
      leafExtensions,
    );
  }

  /** A fresh self-signed CA (tests, demos, the operator's per-tenant CA). */
  static async create(opts: { commonName: string; lifetimeMs: number; now?: Date }): Promise<CaMaterial> {
    const now = opts.now ?? new Date();
    const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: [{ CN: [opts.commonName] }, { O: ['kube-dlp'] }],
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + opts.lifetimeMs),
      keys,
      signingAlgorithm: P256_SHA256,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return { certPem: cert.toString('pem') + '\n', keyPem: toPem(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
  }

  /** A leaf for one host name or IP literal (and `alsoFor`, tests and benches), valid for a day (never beyond the CA). */
  async mint(host: string, now: Date = new Date(), alsoFor: readonly string[] = []): Promise<MintedLeaf> {
    const notAfter = new Date(Math.min(now.getTime() + LEAF_LIFETIME_MS, this.notAfter.getTime()));
    const sans = [host, ...alsoFor].map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      // Subject CN is informational (clients match the SAN); IP literals are not valid CN host names anyway.
      subject: [{ CN: [host.length <= 64 ? host : 'kube-dlp intercepted host'] }],
      issuer: this.caCert.subject,
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      publicKey: this.leafKeys.publicKey,
      signingKey: this.caKey,
      signingAlgorithm: P256_SHA256,
      extensions: [...this.leafExtensions.slice(0, 3), new x509.SubjectAlternativeNameExtension(sans), this.leafExtensions[3]!],
    });
    return { chainPem: `${cert.toString('pem')}\n${this.certPem.trim()}\n`, keyPem: this.leafKeyPem, notAfter };
  }
}

/** Positive 128-bit serial (RFC 5280 §4.1.2.2: unique per CA, at most 20 octets, non-negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
