// The interception CA: an ECDSA P-256 certificate and key (the layout of a
// kubernetes.io/tls Secret: tls.crt, tls.key) and the leaf certificates it
// signs for the hosts the sidecar intercepts.
//
// All leaves of one CA share one key pair, generated when the CA is loaded:
// minting is then one signature (well under a millisecond) instead of a key
// generation plus a signature, which is what keeps a first request to a new
// host cheap. The shared key never leaves the sidecar and is replaced with
// the CA.
//
// A leaf is minted on a first request to a host, on the request's path. What
// every leaf of a CA shares (issuer, public key, algorithm, four of its five
// extensions) is built once, at load; a mint fills in serial, validity,
// subject and SAN, encodes the TBSCertificate once and signs it with Node's
// native ECDSA: @peculiar/x509's generator encodes the certificate twice,
// signs through WebCrypto and parses the result back, about four times the
// work. Both use the ASN.1 schema classes that library is built on
// (@peculiar/asn1-x509), and only those: the sidecar loads the CA and mints,
// and @peculiar/x509 itself (3 MiB of heap and 70 ms of start-up with its
// dependency injection and every other PKI format) is loaded only to create
// a CA, which is the operator's job.
import { X509Certificate as NodeX509, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { canonicalIpv6 } from '../http/ip-literal';
import { InterceptError } from './errors';
import { toPem } from './pem';
import type { CryptoKeyPair } from './x509';

/** ecdsa-with-SHA256 (RFC 5758 §3.2: no parameters). */
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** id-at-commonName. */
const COMMON_NAME = '2.5.4.3';

/** Leaves live a day: short enough that a leaked one expires soon, long enough to be cached. */
export const LEAF_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Clock skew between the sidecar and clients: leaves are valid from slightly in the past. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

export interface MintedLeaf {
  /**
   * What the TLS server presents, PEM: the leaf, then the CA when the CA is
   * itself issued by another (a cert-manager CA under a company root). A
   * self-signed CA is the trust anchor clients already hold and is not sent
   * (RFC 8446 §4.4.2): every handshake is smaller, and the leaf's TLS context
   * parses one certificate less.
   */
  chainPem: string;
  keyPem: string;
  notAfter: Date;
}

export class InterceptCa {
  private constructor(
    readonly certPem: string,
    /** PEM appended to every leaf: empty for a self-signed CA, else the CA certificate. */
    private readonly chainTail: string,
    /** SHA-256 of the CA certificate (DER), hex: identifies this CA in caches and logs. */
    readonly fingerprint: string,
    readonly subject: string,
    readonly notAfter: Date,
    private readonly caKey: KeyObject,
    /** The CA's subject, every leaf's issuer. */
    private readonly issuer: Name,
    private readonly leafPublicKey: SubjectPublicKeyInfo,
    private readonly leafKeyPem: string,
    /** The extensions every leaf shares, built once per CA: what is left per mint is the SAN and one signature. */
    private readonly leafExtensions: readonly Extension[],
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
    let caKey: KeyObject;
    try {
      caKey = createPrivateKey(material.keyPem);
      if (caKey.asymmetricKeyType !== 'ec' || caKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
        throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key must be an ECDSA P-256 key');
      }
      if (!nodeCert.checkPrivateKey(caKey)) throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key does not match tls.crt');
    } catch (err) {
      if (err instanceof InterceptError) throw err;
      throw new InterceptError('KDLP_INTERCEPT_CA_INVALID', 'tls.key is not a PEM private key');
    }
    const leafKeys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const leafKeyPem = leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const leafPublicKey = AsnConvert.parse(leafKeys.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
    const fingerprint = createHash('sha256').update(nodeCert.raw).digest('hex');
    const caCertificate = AsnConvert.parse(nodeCert.raw, Certificate);
    const selfSigned = nodeCert.checkIssued(nodeCert) && nodeCert.verify(nodeCert.publicKey);
    return new InterceptCa(
      material.certPem,
      selfSigned ? '' : `${material.certPem.trim()}\n`,
      fingerprint,
      nodeCert.subject.replace(/\n/g, ', '),
      new Date(nodeCert.validTo),
      caKey,
      caCertificate.tbsCertificate.subject,
      leafPublicKey,
      leafKeyPem,
      sharedLeafExtensions(caCertificate),
    );
  }

  /** A fresh self-signed CA (tests, demos, the operator's per-tenant CA). */
  static async create(opts: { commonName: string; lifetimeMs: number; now?: Date }): Promise<CaMaterial> {
    // Loaded here, not at the top: the sidecar never creates a CA (see the header).
    const { P256, P256_SHA256, subtle, x509 } = await import('./x509');
    const now = opts.now ?? new Date();
    const keys = (await subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialHex(),
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
    const sans = new SubjectAlternativeName([host, ...alsoFor].map((h) => new GeneralName(isIP(h) ? { iPAddress: ipForSan(h) } : { dNSName: h })));
    const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
    const tbs = new TBSCertificate({
      version: Version.v3,
      serialNumber: serial(),
      signature: algorithm,
      issuer: this.issuer,
      validity: new Validity({ notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter }),
      // Subject CN is informational (clients match the SAN); IP literals are not valid CN host names anyway.
      subject: new Name([
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type: COMMON_NAME, value: new AttributeValue({ utf8String: host.length <= 64 ? host : 'kube-dlp intercepted host' }) }),
        ]),
      ]),
      subjectPublicKeyInfo: this.leafPublicKey,
      extensions: new Extensions([
        ...this.leafExtensions.slice(0, 3),
        extension(id_ce_subjectAltName, false, sans),
        this.leafExtensions[3]!,
      ]),
    });
    const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
    const signature = sign('sha256', tbsDer, this.caKey);
    const der = signedCertificate(tbsDer, signature);
    return { chainPem: `${toPem(der, 'CERTIFICATE')}${this.chainTail}`, keyPem: this.leafKeyPem, notAfter };
  }
}

/**
 * The extensions every leaf of `ca` carries besides its SAN, in the order
 * they are written: basicConstraints (not a CA), keyUsage (digitalSignature),
 * extKeyUsage (serverAuth), authorityKeyIdentifier.
 *
 * The authority key identifier is the CA's own subjectKeyIdentifier when it
 * has one (RFC 5280 §4.2.1.2: the two must be equal). Path builders such as
 * OpenSSL's match on them, and a CA from cert-manager or a company PKI may
 * compute its identifier another way than SHA-1 of the key (RFC 7093): a
 * leaf that recomputed it would not chain. Only a CA without the extension
 * gets the SHA-1 of its public key (RFC 5280's method 1).
 */
export function sharedLeafExtensions(ca: Certificate): Extension[] {
  const ski = ca.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectKeyIdentifier);
  const keyId: ArrayBuffer | Buffer = ski
    ? AsnConvert.parse(ski.extnValue.buffer, SubjectKeyIdentifier).buffer
    : createHash('sha1').update(Buffer.from(ca.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)).digest();
  return [
    extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
    extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
    extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth])),
    extension(id_ce_authorityKeyIdentifier, false, new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId) })),
  ];
}

/** An X.509 extension: `value` DER-encoded inside the OCTET STRING extnValue. */
function extension(extnID: string, critical: boolean, value: object): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/**
 * An IP literal as the library's address encoder reads it: that encoder
 * misreads IPv6 with an IPv4 tail (`::ffff:10.0.0.1`, what a dual-stack
 * client may put in CONNECT) and refuses some such forms outright. Hex
 * groups name the same 16 bytes, and an IP SAN is compared as bytes, so the
 * client's own spelling still matches. A zone index is left for the
 * encoder to refuse by name.
 */
function ipForSan(ip: string): string {
  return canonicalIpv6(ip) ?? ip;
}

/** The AlgorithmIdentifier every leaf is signed with, encoded once. */
const SIGNATURE_ALGORITHM_DER = new Uint8Array(AsnConvert.serialize(new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 })));

/**
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * (RFC 5280 §4.1), around the TBSCertificate bytes that were signed. The
 * library builds every field; only this envelope is put together here,
 * because giving the library the TBSCertificate object again would encode
 * it a second time, and encoding is nearly all of a mint's cost (~260 µs
 * and ~170 KB of short-lived objects each). DER: definite lengths, the
 * short form below 128 (X.690 §8.1.3). A unit test checks the result is
 * byte for byte what the library encodes for the same certificate.
 */
function signedCertificate(tbsDer: Uint8Array, signature: Buffer): Buffer {
  const signatureDer = new Uint8Array(AsnConvert.serialize(new BitString(signature)));
  const contentLength = tbsDer.length + SIGNATURE_ALGORITHM_DER.length + signatureDer.length;
  return Buffer.concat([Buffer.from([0x30]), derLength(contentLength), tbsDer, SIGNATURE_ALGORITHM_DER, signatureDer]);
}

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

/** Positive 128-bit serial (RFC 5280 §4.1.2.2: unique per CA, at most 20 octets, non-negative). */
function serialHex(): string {
  const bytes = randomBytes(16);
  // Top bit clear (non-negative), and not a leading zero octet (DER's minimal encoding of an INTEGER).
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function serial(): ArrayBuffer {
  return new Uint8Array(Buffer.from(serialHex(), 'hex')).buffer;
}
